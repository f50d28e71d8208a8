"""Fixed prose of docs/flagship.md (the numbers around it are computed by flagship_figures.py)."""

MECHANISM = """\
The scenario (`src/redline/scenarios/iran-us-2020.yaml`) starts on 6 May 2019, days after the US
let the oil-sanctions waivers expire (`oil_waivers_ended`) and as Iran announced its first step away
from the nuclear deal (`iran_jcpoa_step1`), and runs weekly to the end of 2025 (348 weeks). It is
calibrated on the record of what happened up to 6 January 2020 (below); the killing of Soleimani on
3 January 2020 is a known event (`events`), forced in every run. The chain, each link an element of
the scenario:

1. **Iran chooses** (`actors.iran.policy`, logit quantal response, McKelvey & Palfrey 1995): each
   week, per track, whether to direct a proxy attack and how lethal (`proxy_attack_harass`,
   `proxy_attack_lethal`), whether to strike openly from its territory and how lethal
   (`missile_strike_warning`, `missile_strike_lethal`), what to do in the Gulf (`seize_tanker`,
   `sabotage_tanker`, `shoot_down_us_drone`), in cyberspace (`cyber_operation`), in Iraq's parliament
   (`press_iraq_politically`), on its other fronts (`activate_proxy_fronts`) and with its nuclear
   programme (`nuclear_breach_step`, `raise_enrichment`, `reduce_iaea_access`, `breakout_dash`). The
   base rates are uncertainties fitted on the 2019 record; attacks come in bursts (regime
   `proxy_campaign`, a Markov-switching rate: a short burst in June 2019, a long one from late
   October). **Grievance** (`iran_grievance`: 1 after its top commander is killed,
   decaying) raises the appetite for a response, and a claimed strike from Iran *discharges* most of
   it — so the January 2020 path (a concluded overt strike, then a drip through proxies) is one Iran's
   own policy can take, not a script. With anticipation (realism), its utilities count the US
   responses an action would trip.
2. **Deniability** (`attribution` on covert actions, Baliga, Bueno de Mesquita & Wolitzky 2020): a
   proxy attack is pinned on Iran with `proxy_attribution_probability`, after a delay; claimed
   strikes always. US red lines see only what is attributed.
3. **The US answers along a ladder** (`red_lines`: `americans_killed`, `attack_pattern`,
   `iranian_state_attack`, `exposed_dash`): sanctions, strikes on proxies, covert action, strikes on
   Iran, chosen by the US's own policy (`us_*_utility`), with extra reluctance to strike Iran in an
   election year (`us_election_caution`) and a rest after each firing. The record is one of restraint:
   no strike on Iranian soil after the drone shoot-down, the tanker attacks, Abqaiq or K-1; one round
   of strikes on Kataib Hezbollah.
4. **Regimes, not world-endings**: open war (`war`) starts from lethal exchanges between US and
   Iranian state forces (`war_entry_per_exchange`) and ends in a ceasefire (`war_exit_rate`); a
   restored nuclear deal (`deal`), a Saudi-Houthi truce and a Hezbollah-Israel war are entered and
   left the same way. No outcome freezes a run.
5. **Iraq** (`iraq_expulsion_pressure`): US strikes on Iraqi soil raise the pressure to expel US
   forces (Sistani's condemnations), Iran's allies keep it up, Iranian strikes launched into Iraq cost
   it a little, and it decays (`iraq_pressure_decay`, the article's "may dissipate"). Parliament votes
   when it runs high (`parliament_expulsion_vote`); the executive turns it into a formal order or law
   at a hazard (`iraq_orders_us_out`). The earlier monthly Nash bargaining among Iraqi blocs was
   dropped: the record has one vote and no order, too little to fit a bargaining game on.
6. **US posture is a weekly choice** (`drawdown_iraq`, `exit_iraq`, `drawdown_syria`, `exit_syria`,
   `exit_afghanistan`): partial drawdowns (a share `drawdown_fraction` of the force) and full exits;
   the president's wish to leave (`us_exit_inclination`, none under a Democratic administration), an
   Iraqi order, the election season and resistance to leaving under fire (`us_under_fire_weight`, the
   article's "resist these instincts initially") move the odds. Without Iraq, Syria cannot be
   resupplied. In Afghanistan: talks, a deal at a hazard, a drawdown towards 8,600, an exit.
7. **Israel's covert campaign** (`sabotage_nuclear_site`, `assassinate_iranian_official`) runs at
   rates that rise as enrichment climbs to 20% and 60% (`israel_level_escalation`) and fall under a
   deal; open strikes on nuclear sites come only when breakout time is short or a dash is found
   (`visible_breakout`). Iran answers Israeli operations on its soil through direct exchanges and, at
   high grievance, strikes from its own territory (`iran_israel_front`).
8. **Nuclear steps are reversible bargaining moves**: 3.67 → 4.5 → 20 → 60%, with stocks by level
   (`leu_kg`, `heu20_kg`, `heu60_kg`) produced by separative-work physics from the installed capacity
   (`nuclear_production`, `breakout_update`); IAEA access can be cut; a restored deal sends enrichment
   back to 3.67% and ships the stocks out (`deal_terms`); sanctions pressure and oil exports follow.
9. **The electorate**: approval relaxes to the president's resting level, falls with US deaths and
   rallies when an attack is pinned on Iran (`approval_dynamics`); the November 2020 and 2024 votes
   resolve from approval and a fundamentals prior (Abramowitz's time-for-change model:
   `election_2020`, `election_2024`), and a Democratic administration takes office in January 2021
   if the incumbent loses.
"""

NAMES = [
    ("US military deaths from Iran-aligned attacks", "`us_killed` (cumulative, true count), `us_killed_attributed`, `us_killed_week`", "counter"),
    ("attacks on US forces and diplomatic sites in Iraq and Syria, by kind", "`proxy_attacks`, `rocket_attacks`, `drone_attacks`, `attacks_from_iran` (from Iranian territory), `attacks_on_us_week`, `attacks_attributed`", "counters"),
    ("US strikes on Iran-aligned groups / on Iranian territory", "`us_strikes_proxies`, `us_strikes_on_iran`", "counters"),
    ("lethal clashes between US and Iranian state forces", "`us_iran_lethal_clashes`; non-lethal: `iran_us_state_incidents`", "counters"),
    ("open US-Iran war", "`war` (regime), outcome `us_iran_war` (first week)", "regime / outcome"),
    ("US troop levels", "`us_troops_iraq`, `us_troops_syria`, `us_troops_afghanistan`; outcomes `us_exits_iraq`, `us_exits_syria`, `us_exits_afghanistan`", "state / outcomes"),
    ("Iraqi orders and laws on foreign forces", "`iraq_expulsion_ordered` (outcome `iraq_orders_forces_out`), `iraq_parliament_resolutions`", "state / counter"),
    ("Iranian enrichment level and stocks by level", "`iran_enrichment_level`, `leu_kg`, `heu20_kg`, `heu60_kg`, `breakout_days`, `iaea_access`, `iran_nuclear_steps`", "state"),
    ("strikes or sabotage on Iranian nuclear sites", "`nuclear_site_attacks` (any), `nuclear_sites_bombed` (open air strikes); outcome `strike_on_nuclear_sites`", "counters / outcome"),
    ("assassinations of Iranian officials", "`iranian_officials_assassinated`", "counter"),
    ("direct Iran-Israel exchanges", "`iran_israel_exchanges` (any direct exchange), `iran_strikes_on_israel` (from Iranian territory)", "counters"),
    ("Hezbollah-Israel hostilities", "`hezbollah_israel_clashes`, `hezbollah_israel_war` (regime), outcome `israel_hezbollah_war`", "counter / regime"),
    ("Houthi attacks on Saudi Arabia and on shipping", "`houthi_attacks_saudi`, `houthi_major_oil_attacks`, `houthi_shipping_attacks`, `saudi_houthi_truce` (regime)", "counters / regime"),
    ("tanker seizures (and sabotage)", "`tanker_seizures`, `tanker_sabotage`", "counters"),
    ("attributed Iranian cyber operations", "`iran_cyber_attributed` (true count: `iran_cyber_ops`)", "counter"),
    ("US elections 2020 and 2024", "outcomes `president_reelected` (2020-11-03), `incumbent_party_wins_2024`, `republican_wins_2024` (2024-11-05); `president_approval`, `dem_administration`", "outcomes / state"),
    ("a restored nuclear deal", "`deal` (regime), outcome `nuclear_deal_restored`", "regime / outcome"),
    ("a nuclear test", "outcome `iran_nuclear_test`; `dash_started`, `dash_progress`", "outcome / state"),
]


CAVEATS = """\
## Caveats

* **The fit is approximate.** {fit}
  Most parameters keep close to their priors; the forecasts carry that uncertainty.
* **Forecasts are conditioned on the record's hard facts.** `forecast` and `backtest` count only the
  runs that reproduce the record's five exact observations (no US service member killed, no US strike
  on Iranian soil, no Iraqi order, no war, no Taliban deal by January 2020): {kept}.
* **The reference forecaster is weak on this sample.** `record_poisson` (independent Poisson
  processes fitted on the record, redline.forecast.baselines) scored 0.433, worse than always-0.5
  (0.250) on the seven public questions; the model is compared with all three.
* **What the modeller knew.** Nothing dated after 2020-01-06 entered the structure, the record or the
  priors, but the modeller could not unknow the years since, and the public sample file carries a
  `facts` line with each outcome, seen once while listing its predicates (before the design). The
  defence is the order of work: the structure and posterior were frozen, hashes above, before the
  first score, and every later score is listed with what changed.
"""
