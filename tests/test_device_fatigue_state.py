"""The fatigue analyzer's time logic on scripted drivers: a fake clock at 10, 15 and 30 fps with
jitter and dropped frames must give the same PERCLOS, the same events and the same level changes
(within 0.5 s of the scripted condition)."""

from __future__ import annotations

import pytest

from edgeemo.apps.fatigue.config import FatigueConfig
from edgeemo.apps.fatigue.state import DriverState, Sample
from edgeemo.apps.fatigue.windows import EventLog, TimeShare
from edgeemo.errors import ConfigError
from tests.fatigue_script import Script, drive

RATES = (10, 15, 30)
CAL = 62.0  # calibration (60 s of valid frames) is over by then


def test_time_share_clips_the_window_start_and_merges_spans():
    w = TimeShare(10.0)
    w.add(0.0, 4.0, False)
    w.add(4.0, 6.0, True)
    w.add(6.0, 8.0, True)
    assert w.totals(8.0) == pytest.approx((8.0, 4.0))
    assert w.totals(15.0) == pytest.approx((3.0, 3.0))  # window 5..15 holds 5..8, all on
    assert len(w._spans) == 1, "contiguous equal spans merge; the off span expired"
    log = EventLog(5.0)
    for t in (1.0, 2.0, 6.0):
        log.add(t, t * 10)
    assert log.values(6.5) == [20.0, 60.0] and log.count(20.0) == 0


def test_calibration_takes_a_minute_of_valid_time_not_frames():
    for fps in RATES:
        run = drive(Script(), 70.0, fps)
        ready = run.first(lambda s: s["calibration"] == "ready")
        assert ready == pytest.approx(60.0, abs=0.3), f"{fps} fps: expected ready after 60 s, received {ready}"
        assert run.at(2.0)["level_name"] == "unknown", "no baseline before min_calibration_s"
        assert run.at(10.0)["level_name"] == "ok"
    # Absent driver time does not count.
    run = drive(Script(absent=[(10.0, 20.0)]), 90.0, 15)
    assert run.first(lambda s: s["calibration"] == "ready") == pytest.approx(80.0, abs=0.3)


@pytest.mark.parametrize("fps", RATES)
def test_perclos_blinks_and_long_blinks_are_exact_at_every_rate(fps: int):
    # Minute 62..122: 12 normal blinks of 250-400 ms, 4 long blinks of 600 ms, one 1.5 s microsleep.
    normal = [(CAL + 1 + 4 * i, 0.25 + 0.05 * (i % 4)) for i in range(12)]
    long = [(CAL + 50 + 2 * i, 0.6) for i in range(4)]
    script = Script(closures=normal + long + [(CAL + 48.0, 1.5)])
    run = drive(script, CAL + 60.5, fps, seed=fps)
    end = run.at(CAL + 60.0)
    closed = sum(d for _, d in normal + long) + 1.5
    assert end["perclos_60s"] == pytest.approx(closed / 60.0, abs=0.006), f"{fps} fps"
    assert end["coverage_60s"] == pytest.approx(1.0, abs=0.01)
    assert end["blinks_per_min"] == 16 and end["long_blinks_per_min"] == 4
    expected_mean = 1000 * sum(d for _, d in normal + long) / 16
    assert end["mean_blink_ms"] == pytest.approx(expected_mean, abs=25)
    assert end["microsleeps_5min"] == 1 and run.counts()["microsleep"] == 1 and run.counts()["sleep"] == 0
    assert end["level_name"] == "warning"  # the microsleep holds level 2 for 30 s
    # Long blinks: the third in a minute raises "drowsy" on its own (config without the microsleep).
    run2 = drive(Script(closures=long), CAL + 60.0, fps, seed=fps)
    third_end = long[2][0] + long[2][1]
    t = run2.first(lambda s: s["level_name"] == "drowsy")
    assert t is not None and third_end - 0.05 <= t <= third_end + 0.5, f"{fps} fps: drowsy at {t}"


@pytest.mark.parametrize("fps", RATES)
def test_microsleep_sleep_and_their_levels_rise_within_half_a_second(fps: int):
    script = Script(closures=[(CAL + 5.0, 2.0), (CAL + 60.0, 4.5)])
    run = drive(script, CAL + 100.0, fps, seed=fps + 1)
    t2 = run.first(lambda s: s["level"] == 2)
    assert t2 is not None and CAL + 6.0 <= t2 <= CAL + 6.5, f"{fps} fps: warning at {t2}, closure at {CAL + 5}"
    t3 = run.first(lambda s: s["level"] == 3)
    assert t3 is not None and CAL + 63.0 <= t3 <= CAL + 63.5, f"{fps} fps: critical at {t3}"
    assert run.counts()["microsleep"] == 1 and run.counts()["sleep"] == 1
    sleep = next(d for _, k, d in run.events if k == "sleep")
    assert 3000 <= sleep["eyes_closed_ms"] <= 3500
    assert run.at(CAL + 62.0)["eyes_closed_ms"] == pytest.approx(2000, abs=150)
    # Hysteresis: warning holds 30 s after the eyes reopen (CAL + 7), then clears.
    assert run.at(CAL + 36.0)["level"] == 2
    t0 = run.first(lambda s: s["level"] == 0, after=CAL + 7.0)
    assert t0 is not None and CAL + 36.8 <= t0 <= CAL + 37.5, f"{fps} fps: cleared at {t0}"
    levels = [(k, d["to"]) for _, k, d in run.events if k == "level_changed"]
    # The 4.5 s closure passes 1 s (warning) before 3 s (critical); critical clears 30 s after it
    # reopens, into drowsy: PERCLOS (2 + 4.5 s in a minute, 0.108) sat above drowsy's clear line
    # (0.7 x 0.15) until the first closure left the window, 30 s before "ok".
    assert [to for _, to in levels] == ["ok", "warning", "ok", "warning", "critical", "drowsy", "ok"]


@pytest.mark.parametrize("fps", RATES)
def test_perclos_levels_have_hysteresis(fps: int):
    # 10 s of half-second closures every 2 s (PERCLOS 0.25 over that stretch), then sparse ones.
    dense = [(CAL + 2.0 * i, 0.5) for i in range(40)]  # 20 s closed in 80 s, 20 of them per 40 s
    sparse = [(CAL + 80.0 + 5.0 * i, 0.6) for i in range(30)]  # 0.12 PERCLOS
    run = drive(Script(closures=dense + sparse), CAL + 230.0, fps, seed=3)
    at_peak = run.at(CAL + 79.0)
    assert at_peak["perclos_60s"] == pytest.approx(0.25, abs=0.01) and at_peak["level"] == 2
    # Sparse closures keep PERCLOS at 0.12: below the warning's 0.175 clear line but above 0.105.
    later = run.at(CAL + 200.0)
    assert later["perclos_60s"] == pytest.approx(0.12, abs=0.01)
    assert later["level"] == 1, f"{fps} fps: expected drowsy held by hysteresis, received {later['level_name']}"
    # 0.6 s closures are long blinks (12 a minute): they alone keep drowsy raised.
    assert later["long_blinks_per_min"] == 12


@pytest.mark.parametrize("fps", RATES)
def test_yawns_count_only_long_mouth_openings(fps: int):
    yawns = [(CAL + 10.0 + 30.0 * i, 2.5) for i in range(3)]
    script = Script(yawns=yawns + [(CAL + 5.0, 1.0)])  # 1 s: talking, not a yawn
    run = drive(script, CAL + 80.0, fps, seed=fps)
    assert run.counts()["yawn"] == 3
    assert run.at(CAL + 79.0)["yawns_5min"] == 3
    t = run.first(lambda s: s["level"] == 1)
    third = yawns[2][0] + 1.5
    assert t is not None and third <= t <= third + 0.5, f"{fps} fps: drowsy at {t}, third yawn at {third}"


@pytest.mark.parametrize("fps", RATES)
def test_nods_raise_critical_and_a_slow_look_down_does_not(fps: int):
    run = drive(Script(nods=[CAL + 5.0], looking_down=[(CAL + 20.0, 6.0)]), CAL + 30.0, fps, seed=fps)
    assert run.counts()["nod"] == 1
    nod = next(d for _, k, d in run.events if k == "nod")
    assert 20.0 <= nod["drop_deg"] <= 28.5
    t = run.first(lambda s: s["level"] == 3)
    assert t is not None and CAL + 5.6 <= t <= CAL + 6.0, f"{fps} fps: critical at {t}, nod returned at {CAL + 5.9}"


@pytest.mark.parametrize("fps", RATES)
def test_distraction_follows_euro_ncap(fps: int):
    long_glance = [(CAL + 5.0, 4.0, 36.0)]
    short_glances = [(CAL + 40.0 + 6.0 * i, 2.8, -28.0) for i in range(4)]  # 11.2 s in 21 s
    few = [(CAL + 120.0 + 10.0 * i, 2.5, 28.0) for i in range(3)]  # 7.5 s in 30 s
    run = drive(Script(glances=long_glance + short_glances + few), CAL + 160.0, fps, seed=fps)
    onsets = [t for t, k, _ in run.events if k == "distraction"]
    assert len(onsets) == 2, f"{fps} fps: {onsets}"
    assert CAL + 8.0 <= onsets[0] <= CAL + 8.5
    fourth_end_total = CAL + 40.0 + 18.0 + (10.0 - 3 * 2.8)  # total passes 10 s during the fourth glance
    assert fourth_end_total - 0.2 <= onsets[1] <= fourth_end_total + 0.5
    assert run.at(CAL + 7.0)["off_road_ms"] == pytest.approx(2000, abs=150)
    assert not run.at(CAL + 145.0)["distracted"]
    # The head turned beyond 30 degrees: the eyes are not measured and the level is unknown.
    assert run.at(CAL + 7.0)["level_name"] == "unknown" and run.at(CAL + 7.0)["eye_openness"] is None
    assert run.at(CAL + 41.0)["level_name"] == "ok"  # 25 degrees off: away from the road, eyes still measured


def test_same_results_at_every_rate():
    script = Script(
        closures=[(CAL + 3.0 * i, 0.3) for i in range(10)] + [(CAL + 40.0, 1.8), (CAL + 100.0, 3.5)],
        yawns=[(CAL + 50.0, 2.0)], nods=[CAL + 70.0], glances=[(CAL + 80.0, 3.5, 25.0)],
        absent=[(CAL + 120.0, 5.0)],
    )
    results = {}
    for fps in RATES:
        run = drive(script, CAL + 140.0, fps, seed=fps * 7)
        results[fps] = (run.counts(), [d["to"] for _, k, d in run.events if k == "level_changed"],
                        run.at(CAL + 30.0)["blinks_per_min"])
    assert results[10] == results[15] == results[30], results


def test_no_face_freezes_everything():
    run = drive(Script(absent=[(CAL + 10.0, 30.0)], closures=[(CAL + 5.0, 1.2)]), CAL + 45.0, 15)
    assert run.at(CAL + 20.0)["level_name"] == "unknown"
    assert run.at(CAL + 39.0)["coverage_60s"] < run.at(CAL + 9.0)["coverage_60s"]
    # The microsleep's warning cannot clear while nobody is seen: 30 s of valid frames are needed.
    assert run.at(CAL + 44.0)["level"] == 2


def test_a_lasting_openness_shift_recalibrates_but_closed_eyes_do_not():
    script = Script(openness_scale=[(CAL + 10.0, 300.0, 0.55)])  # glasses: the eyes look 45% smaller
    run = drive(script, CAL + 140.0, 15)
    assert run.counts()["recalibrating"] == 1
    assert run.at(CAL + 45.0)["calibration"] == "calibrating"
    assert run.at(CAL + 139.0)["calibration"] == "ready" and run.at(CAL + 139.0)["closure"] < 0.2
    sleepy = drive(Script(closures=[(CAL + 10.0, 40.0)]), CAL + 60.0, 15)
    assert sleepy.counts()["recalibrating"] == 0 and sleepy.at(CAL + 49.0)["level"] == 3


def test_saturated_eyes_are_unknown():
    state = DriverState(FatigueConfig(min_calibration_s=0.5))
    for i in range(20):
        out, _ = state.update(100.0 + i * 0.1, Sample(openness=(0.3, 0.3), mouth=0.05, pose=(0.0, 0.0, 0.0)))
    assert out["level_name"] == "ok"
    out, _ = state.update(102.1, Sample(openness=(0.3, 0.3), mouth=0.05, pose=(0.0, 0.0, 0.0), saturated=True))
    assert out["level_name"] == "unknown" and out["yaw_deg"] == 0.0


def test_every_threshold_is_a_validated_config_key():
    from edgeemo.daemon.config import parse_config

    cfg = parse_config({"apps": {"fatigue": {"enabled": True, "drowsy_perclos": 0.1, "sleep_s": 2.5}}})
    assert cfg.apps.fatigue.drowsy_perclos == 0.1 and cfg.apps.fatigue.sleep_s == 2.5
    with pytest.raises(ConfigError, match=r"apps\.fatigue: expected long_blink_s < microsleep_s < sleep_s"):
        parse_config({"apps": {"fatigue": {"sleep_s": 0.8}}})
    with pytest.raises(ConfigError, match=r"apps\.fatigue\.perclos_windw_s: expected no such key"):
        parse_config({"apps": {"fatigue": {"perclos_windw_s": 30}}})


def test_short_blinks_are_counted_where_the_frame_rate_resolves_them():
    """100-200 ms blinks: at 30 fps every one is seen; at 10 fps (a frame every ~100 ms) a blink
    shorter than a frame period can fall between two frames, so fewer may be counted, never more."""
    blinks = [(CAL + 2.0 + 3.0 * i, 0.10 + 0.01 * i) for i in range(11)]  # 100..200 ms
    run = drive(Script(closures=blinks), CAL + 40.0, 30, seed=5)
    end = run.at(CAL + 39.0)
    assert end["blinks_per_min"] == 11 and end["long_blinks_per_min"] == 0
    assert end["mean_blink_ms"] == pytest.approx(150, abs=25)
    slow = drive(Script(closures=blinks), CAL + 40.0, 10, seed=5).at(CAL + 39.0)
    assert slow["blinks_per_min"] <= 11 and slow["long_blinks_per_min"] == 0
