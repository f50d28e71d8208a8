"""Seats for people and agents: play an actor of a scenario against the model.

A seat is an ``external`` policy: each week the engine asks it once for all live runs of a block
(:mod:`redline.play.protocol` defines the messages), under common random numbers. Seats: a person
in the terminal (:mod:`redline.play.terminal`) or the browser (the web app), an agent program or
HTTP server, a language model behind an OpenAI-compatible endpoint (:mod:`redline.play.seats`).
Games are logged as JSON Lines and replayed exactly (:mod:`redline.play.replay`).
"""
from redline.play.game import BAD_ANSWER_POLICIES, GameLog, play, read_log, visible_names
from redline.play.protocol import SCHEMA, BadAnswer, parse_answer
from redline.play.replay import replay
from redline.play.seats import (
    DEFAULT_TIMEOUT_S,
    CommandAgent,
    HttpAgent,
    LLMAgent,
    ReplaySeat,
    Seat,
    parse_seat_spec,
)

__all__ = [
    "BAD_ANSWER_POLICIES",
    "DEFAULT_TIMEOUT_S",
    "SCHEMA",
    "BadAnswer",
    "CommandAgent",
    "GameLog",
    "HttpAgent",
    "LLMAgent",
    "ReplaySeat",
    "Seat",
    "parse_answer",
    "parse_seat_spec",
    "play",
    "read_log",
    "replay",
    "visible_names",
]
