"""The room mood app on scripted face streams with a fake clock: who counts, the weighting, the
hold that keeps the mood from flapping, the empty room, quiet hours, and what it tells Home
Assistant. No model runs here: the faces are what the tracker would hand over."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pytest

from edgeemo.apps import AppContext, FakeClock, MqttTopics
from edgeemo.apps.mood import DEFAULT_AFFECT, EVENT_TYPES, MOOD_STATES, MoodConfig
from edgeemo.apps.mood.analyzer import MoodAnalyzer
from edgeemo.apps.registry import build_analyzers
from edgeemo.daemon.config import parse_config
from edgeemo.daemon.pipeline import FaceResult, FrameResult
from edgeemo.errors import ConfigError
from edgeemo.labels import FER2013_LABELS

LABELS = list(FER2013_LABELS)
# Noon on a weekday, local time: well away from any quiet hours unless a test says otherwise.
NOON = dt.datetime(2026, 3, 2, 12, 0, 0).timestamp()


def probs(main: str, p: float, **others: float) -> dict[str, float]:
    """`main` at p, the named others as given, the rest spread evenly."""
    out = {main: p, **others}
    rest = [lab for lab in LABELS if lab not in out]
    left = max(0.0, 1.0 - sum(out.values()))
    out.update({lab: left / len(rest) for lab in rest})
    return out


def face(track: int, pr: dict[str, float], *, height: float = 120.0, det: float = 0.9) -> FaceResult:
    label = max(pr, key=pr.__getitem__)
    return FaceResult(id=track, box=[100.0, 100.0, 100.0 + height * 0.8, 100.0 + height], det_score=det,
                      label=label, score=pr[label], probs=dict(pr), raw_label=label)


class Script:
    """Feeds an analyzer frames at `fps` on a FakeClock; wall time follows the clock from `wall0`."""

    def __init__(self, analyzer: MoodAnalyzer, *, wall0: float = NOON, start: float = 1000.0) -> None:
        self.analyzer = analyzer
        self.clock = FakeClock(start=start)
        self.t0 = start
        self.wall0 = wall0
        self.states: list[tuple[float, dict[str, Any]]] = []  # (seconds since start, state)
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self.frames = 0

    def run(self, seconds: float, faces: Callable[[float], list[FaceResult]] | list[FaceResult], *,
            fps: float = 10.0, jitter: float = 0.0, drop: float = 0.0) -> None:
        for now in self.clock.frames(seconds, fps, jitter=jitter, drop=drop, seed=self.frames):
            rel = now - self.t0
            fs = faces(rel) if callable(faces) else faces
            result = FrameResult(index=self.frames, wall_time=self.wall0 + rel, width=640, height=480, faces=fs)
            out = self.analyzer.update(result, now)
            self.frames += 1
            assert out.state is not None
            self.states.append((rel, out.state))
            self.events.extend((rel, e.type, e.to_json()) for e in out.events)

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1][1]

    def changes(self) -> list[tuple[float, str, str]]:
        return [(t, e["from"], e["to"]) for t, kind, e in self.events if kind == "mood_changed"]


def analyzer(**cfg: Any) -> MoodAnalyzer:
    return MoodAnalyzer(MoodConfig(enabled=True, **cfg), LABELS)


# -- who counts, and when the mood may change ----------------------------------------------------

def test_one_happy_face_becomes_positive_only_after_dwell_and_hold():
    s = Script(analyzer())
    happy = [face(1, probs("happy", 0.9))]
    s.run(30.0, happy)
    changes = s.changes()
    assert [(a, b) for _, a, b in changes] == [("none", "neutral"), ("neutral", "positive")], changes
    (t_seen, *_), (t_positive, *_) = changes
    # Counted once seen for min_dwell_s (3 s); positive once neutral was held min_hold_s (15 s).
    assert 3.0 <= t_seen <= 3.1 + 1e-9, f"expected the face to count at 3 s, received {t_seen:.2f} s"
    assert 18.0 <= t_positive <= 18.1 + 1e-9, f"expected positive at 3 + 15 s, received {t_positive:.2f} s"
    assert [k for _, k, _ in s.events if k != "mood_changed"] == ["room_occupied"]
    assert all(st["state"] == "none" for t, st in s.states if t < 3.0)
    st = s.state
    assert st["state"] == "positive" and st["people"] == 1 and st["occupied"] is True
    assert st["dominant_emotion"] == "happy" and st["quiet"] is False
    assert st["valence"] == pytest.approx(0.9 * 0.80 + 0.1 / 6 * sum(DEFAULT_AFFECT[k][0] for k in LABELS if k != "happy"), abs=1e-3)
    assert st["since"] == pytest.approx(NOON + t_positive, abs=1e-3)


def test_without_the_hold_the_same_face_is_positive_at_dwell():
    """The delay above is the hold's doing, not the smoothing's: with min_hold_s = 0 the first
    counted frame is neutral and the next one positive."""
    s = Script(analyzer(min_hold_s=0.0))
    s.run(5.0, [face(1, probs("happy", 0.9))])
    (t1, _, a), (t2, _, b) = s.changes()
    assert (a, b) == ("neutral", "positive") and t2 - t1 == pytest.approx(0.1, abs=1e-6)


def _alternating(period_s: float) -> Callable[[float], list[FaceResult]]:
    happy, sad = probs("happy", 0.9), probs("sad", 0.9)
    return lambda t: [face(1, happy if int(t // period_s) % 2 == 0 else sad)]


@pytest.mark.parametrize("tau_s", [1.0, 20.0])
def test_faces_alternating_every_2s_change_the_mood_at_most_once_per_hold(tau_s):
    s = Script(analyzer(tau_s=tau_s))
    s.run(120.0, _alternating(2.0), fps=8.0, jitter=0.3, drop=0.1)
    times = [t for t, _, _ in s.changes()]
    gaps = np.diff(times)
    assert (gaps >= 15.0 - 1e-9).all(), f"expected changes >= 15 s apart (min_hold_s), received gaps {gaps.round(2).tolist()}"
    assert len(times) <= 1 + 120 / 15, times


def test_the_hold_is_what_stops_the_flapping():
    """Same stream, fast smoothing, no hold: the mood follows every swing. So the bound above
    is the hold at work, not a stream that never crosses the thresholds."""
    s = Script(analyzer(tau_s=1.0, min_hold_s=0.0))
    s.run(60.0, _alternating(2.0), fps=8.0)
    assert len(s.changes()) >= 20, s.changes()[:5]


def test_hysteresis_keeps_a_mood_between_the_enter_and_exit_thresholds():
    """Valence that sits between exit (0.15) and enter (0.25) keeps whatever the room had."""
    # happy 0.8 * p + the rest: p chosen so valence lands at about 0.2
    mild = probs("happy", 0.25, neutral=0.75)  # valence 0.20
    assert 0.15 < 0.25 * 0.80 < 0.25
    s = Script(analyzer(min_hold_s=0.0, tau_s=0.5))
    s.run(5.0, [face(1, probs("happy", 0.9))])
    s.run(10.0, [face(1, mild)])
    assert s.state["state"] == "positive", "0.20 is above the exit threshold: stays positive"
    s2 = Script(analyzer(min_hold_s=0.0, tau_s=0.5))
    s2.run(15.0, [face(1, mild)])
    assert s2.state["state"] == "neutral", "0.20 is below the enter threshold: never becomes positive"


def test_probability_weighted_not_argmax():
    """A face read as neutral by a hair (0.40) but with the rest on sad and fear is negative:
    the argmax would say valence 0."""
    pr = {"neutral": 0.40, "sad": 0.35, "fear": 0.25, "angry": 0.0, "disgust": 0.0, "happy": 0.0, "surprise": 0.0}
    s = Script(analyzer(min_hold_s=0.0))
    s.run(6.0, [face(1, pr)])
    expected_v = 0.35 * -0.65 + 0.25 * -0.64
    assert s.state["valence"] == pytest.approx(expected_v, abs=1e-3)
    assert s.state["dominant_emotion"] == "neutral"
    assert s.state["state"] in ("tense", "low") and s.state["state"] == "low", s.state


def test_a_large_uncertain_face_weighs_less_than_a_small_confident_one():
    near_unsure = probs("sad", 0.20)  # 240 px, almost uniform: certainty ~0.03
    far_sure = probs("happy", 0.96)  # 60 px, certainty ~0.8
    s = Script(analyzer(min_hold_s=0.0))
    s.run(6.0, [face(1, near_unsure, height=240), face(2, far_sure, height=60)])
    assert s.state["people"] == 2
    assert s.state["valence"] > 0.5 and s.state["dominant_emotion"] == "happy", s.state
    # Size does count: the same near face, just as sure of sad, outweighs the far happy one.
    s = Script(analyzer(min_hold_s=0.0))
    s.run(6.0, [face(1, probs("sad", 0.96), height=240), face(2, far_sure, height=60)])
    assert s.state["valence"] < -0.2 and s.state["dominant_emotion"] == "sad", s.state


@pytest.mark.parametrize(("who", "why"), [
    (face(1, probs("happy", 0.9), height=40), "a face under min_face_px (48)"),
    (face(1, probs("happy", 0.9), det=0.5), "a detection under min_det_score (0.6)"),
])
def test_faces_that_never_count(who, why):
    s = Script(analyzer())
    s.run(40.0, [who])
    assert s.events == [] and s.state["state"] == "none" and s.state["people"] == 0, why


def test_a_passer_by_under_the_dwell_time_never_counts():
    s = Script(analyzer())
    s.run(2.9, [face(1, probs("happy", 0.9))])
    s.run(5.0, [])
    s.run(2.9, [face(2, probs("happy", 0.9))])
    assert s.events == [] and s.state["occupied"] is False


# -- the empty room -------------------------------------------------------------------------------

def test_empty_room_after_empty_after_s_then_a_fresh_start():
    s = Script(analyzer())
    s.run(25.0, [face(1, probs("happy", 0.9))])
    assert s.state["state"] == "positive"
    s.run(29.9, [])
    assert s.state["occupied"] is True and s.state["people"] == 0, "nobody counted for < 30 s: still occupied"
    assert s.state["state"] == "positive", "the mood holds while the room is not yet empty"
    s.run(0.2, [])
    assert s.state == {**s.state, "state": "none", "occupied": False, "valence": None, "arousal": None,
                       "dominant_emotion": "none", "people": 0}
    kinds = [k for _, k, _ in s.events]
    assert kinds[-2:] == ["room_empty", "mood_changed"], kinds
    t_empty = next(t for t, k, _ in s.events if k == "room_empty")
    assert 54.9 <= t_empty <= 55.1, f"expected the room empty 30 s after the last face at 25 s, received {t_empty:.2f}"
    # Someone new: the smoothed value starts over (reset), not from the old happy room.
    s.run(20.0, [face(7, probs("sad", 0.9))])
    assert s.state["valence"] == pytest.approx(0.9 * -0.65 + 0.1 / 6 * sum(DEFAULT_AFFECT[k][0] for k in LABELS if k != "sad"), abs=1e-3)
    assert s.state["state"] == "low"


def test_looking_away_briefly_keeps_occupancy_and_mood():
    s = Script(analyzer())
    s.run(20.0, [face(1, probs("happy", 0.9))])
    s.run(10.0, [])  # looked away: no face, but the room is not empty
    s.run(5.0, [face(2, probs("happy", 0.9))])
    assert [k for _, k, _ in s.events].count("room_occupied") == 1
    assert s.state["state"] == "positive"


# -- quiet hours -----------------------------------------------------------------------------------

def _wall(h: int, m: int, sec: float = 0.0) -> float:
    return dt.datetime(2026, 3, 2, h, m).timestamp() + sec


def test_quiet_hours_edges_keep_occupancy_only():
    # Start at 21:59:30 local time; 22:00:00 is 30 s in.
    s = Script(analyzer(quiet_hours="22:00-07:00"), wall0=_wall(21, 59, 30))
    happy = [face(1, probs("happy", 0.9))]
    s.run(29.95, happy)
    assert s.state["quiet"] is False and s.state["state"] == "positive"
    s.run(0.1, happy)  # crosses 22:00:00
    st = s.state
    assert st["quiet"] is True and st["state"] == "none" and st["valence"] is None and st["dominant_emotion"] == "none"
    assert st["occupied"] is True and st["people"] == 1, "quiet hours in occupancy mode still count people"
    assert s.changes()[-1][1:] == ("positive", "none")
    t_quiet = s.changes()[-1][0]
    assert 30.0 <= t_quiet <= 30.1, f"expected quiet at 22:00:00 (30 s in), received {t_quiet:.2f}"
    # The morning edge: 07:00:00 is not quiet any more.
    s2 = Script(analyzer(quiet_hours="22:00-07:00"), wall0=_wall(6, 59, 50))
    s2.run(9.95, happy)
    assert s2.state["quiet"] is True and s2.state["state"] == "none" and s2.state["people"] == 1
    s2.run(0.1, happy)
    assert s2.state["quiet"] is False and s2.state["state"] == "neutral", "out of quiet hours: neutral, then the hold"
    s2.run(15.1, happy)
    assert s2.state["state"] == "positive"


def test_quiet_hours_in_pause_mode_read_nothing_and_send_no_room_empty():
    s = Script(analyzer(quiet_hours="22:00-07:00", quiet_mode="pause"), wall0=_wall(21, 59, 30))
    s.run(40.0, [face(1, probs("happy", 0.9))])
    st = s.state
    assert st["quiet"] is True and st["state"] == "none"
    assert st["people"] is None and st["occupied"] is None, "paused: occupancy is unknown, not empty"
    assert "room_empty" not in [k for _, k, _ in s.events]


def test_quiet_hours_that_do_not_wrap():
    a = analyzer(quiet_hours="13:00-14:30")
    q = a._quiet_hours
    assert q is not None
    assert not q.contains(_wall(12, 59, 59.9)) and q.contains(_wall(13, 0)) and q.contains(_wall(14, 29, 59))
    assert not q.contains(_wall(14, 30))


# -- config -------------------------------------------------------------------------------------------

def test_affect_table_can_be_overridden_per_label():
    pr = probs("surprise", 0.95)
    s = Script(analyzer(min_hold_s=0.0))
    s.run(5.0, [face(1, pr)])
    assert s.state["valence"] > 0.1
    s = Script(analyzer(min_hold_s=0.0, affect={"surprise": (-0.5, 0.8)}))
    s.run(5.0, [face(1, pr)])
    assert s.state["valence"] < -0.4 and s.state["state"] == "tense"


def test_a_bundle_label_without_a_point_is_a_config_error():
    cfg = parse_config({"apps": {"mood": {"enabled": True}}})
    with pytest.raises(ConfigError, match=r"apps\.mood\.affect: expected .* received none for \['contempt'\]"):
        build_analyzers(cfg.apps, AppContext(bundle=None, labels=[*LABELS, "contempt"]))
    cfg = parse_config({"apps": {"mood": {"enabled": True, "affect": {"contempt": [-0.5, 0.2]}}}})
    (built,) = build_analyzers(cfg.apps, AppContext(bundle=None, labels=[*LABELS, "contempt"]))
    assert isinstance(built, MoodAnalyzer) and built.name == "mood"


# -- what Home Assistant is told ------------------------------------------------------------------------

def _random_stream(rng: np.random.Generator) -> Callable[[float], list[FaceResult]]:
    """Three tracks that come and go, with a shared leaning that changes every 10 s, noisy
    probabilities, sizes and detection scores on both sides of the thresholds."""
    leaning: dict[int, str] = {}

    def faces(t: float) -> list[FaceResult]:
        out: list[FaceResult] = []
        if 150 <= t < 165:  # everybody out for a while
            return out
        for tid in (1, 2, 3):
            if (t // (5 + tid)) % 3 == 0:
                continue
            lab = leaning.setdefault(int(t // 10), LABELS[int(rng.integers(len(LABELS)))])
            p = rng.dirichlet(np.ones(len(LABELS)) * 0.5)
            pr = dict(zip(LABELS, p.tolist(), strict=True))
            pr[lab] += 1.5
            total = sum(pr.values())
            out.append(face(tid, {k: v / total for k, v in pr.items()}, height=float(rng.uniform(30, 200)),
                            det=float(rng.uniform(0.4, 1.0))))
        return out

    return faces


def test_every_state_the_analyzer_emits_is_in_the_discovery_options():
    topics = MqttTopics(device_id="den", base="edgeemo/den", state="edgeemo/den/room", event="edgeemo/den/event",
                        availability="edgeemo/den/availability", command="edgeemo/den/set")
    seen_states: set[str] = set()
    seen_dominant: set[str] = set()
    seen_events: set[str] = set()
    a = analyzer(min_dwell_s=1.0, min_hold_s=2.0, tau_s=2.0, empty_after_s=5.0, quiet_hours="12:01-12:02")
    cmps = a.discovery_components(topics)
    rng = np.random.default_rng(3)
    s = Script(a)
    s.run(240.0, _random_stream(rng), fps=5.0, drop=0.2)
    for _, st in s.states:
        seen_states.add(st["state"])
        seen_dominant.add(st["dominant_emotion"])
        for key in ("valence", "arousal"):
            assert st[key] is None or (isinstance(st[key], float) and math.isfinite(st[key]))
        json.dumps(st, allow_nan=False)
    seen_events = {k for _, k, _ in s.events}
    assert seen_states == set(MOOD_STATES), f"the stream should reach every state, reached {seen_states}"
    assert seen_states <= set(cmps["room_mood"]["options"])
    assert cmps["room_mood"]["options"] == ["positive", "neutral", "tense", "low", "none"]
    assert seen_dominant <= set(cmps["dominant_emotion"]["options"]) and "none" in seen_dominant
    assert seen_events == set(cmps["mood"]["event_types"]) == set(EVENT_TYPES)


def test_mood_components_have_stable_unique_ids_and_entity_ids():
    topics = MqttTopics(device_id="den", base="edgeemo/den", state="edgeemo/den/room", event="edgeemo/den/event",
                        availability="edgeemo/den/availability", command="edgeemo/den/set")
    cmps = analyzer().discovery_components(topics)
    assert set(cmps) == {"room_mood", "valence", "arousal", "people", "dominant_emotion", "occupancy", "mood"}
    uids = [c["unique_id"] for c in cmps.values()]
    assert len(set(uids)) == len(uids)
    for key, c in cmps.items():
        assert c["unique_id"] == c["object_id"] == f"edgeemo_den_{key}", "lowercase ids: the same"
        assert c["default_entity_id"] == f"{c['p']}.edgeemo_den_{key}"
        assert "expire_after" not in c
    assert cmps["occupancy"]["p"] == "binary_sensor" and cmps["occupancy"]["device_class"] == "occupancy"
    assert cmps["valence"]["state_class"] == cmps["people"]["state_class"] == "measurement"
    assert cmps["mood"]["p"] == "event" and cmps["mood"]["state_topic"] == "edgeemo/den/event"
    # Same ids from a second analyzer: nothing random or counted goes into them.
    assert analyzer().discovery_components(topics) == cmps


def _events_from(stream: Iterable[tuple[float, str, dict[str, Any]]]) -> list[str]:
    return [k for _, k, _ in stream]


def test_output_changed_only_when_what_home_assistant_shows_changes():
    a = analyzer(min_hold_s=0.0)
    clock = FakeClock()
    changed = []
    for i, now in enumerate(clock.frames(6.0, 10.0)):
        out = a.update(FrameResult(i, NOON + i / 10, 640, 480, [face(1, probs("happy", 0.9))]), now)
        changed.append(out.changed)
    assert changed[0] and sum(changed) <= 4, "first frame, counted, positive; not every frame"
    assert out.gauges["people"] == 1.0 and out.gauges["occupied"] == 1.0 and out.timings["mood"] > 0


def test_edgeemo_run_app_mood_adds_the_room_to_every_line(tmp_path):
    from click.testing import CliRunner

    from edgeemo.bundle import default_bundle_path
    from edgeemo.cli import cli

    if default_bundle_path() is None:
        pytest.skip("this installation ships no default bundle")
    out = tmp_path / "frames.jsonl"
    res = CliRunner().invoke(cli, ["run", "--source", "fake:160x120*4", "--jsonl", str(out), "--app", "mood"])
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert lines, "no frames written"
    assert lines[0]["mood"] == {"state": "none", "valence": None, "arousal": None, "people": 0, "occupied": False,
                                "dominant_emotion": "none", "since": lines[0]["ts"], "quiet": False}
    assert "mood" in lines[0]["timings_ms"]
