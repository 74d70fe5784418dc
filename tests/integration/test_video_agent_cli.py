"""`safewatch agent` as a command: events are published, bad input exits with a clear message."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from safewatch import app
from tests.integration.video_helpers import ENT


def test_agent_publishes_events_and_exits(mqtt_broker: tuple[str, int], topic_prefix: str):
    host, port = mqtt_broker
    got: list[dict[str, object]] = []
    subscribed, arrived = threading.Event(), threading.Event()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_subscribe = lambda *_: subscribed.set()
    client.on_message = lambda _c, _u, m: (got.append(json.loads(m.payload)), arrived.set())
    client.connect(host, port)
    client.subscribe(f"{topic_prefix}/ent/{ENT}/event", qos=1)
    client.loop_start()
    try:
        assert subscribed.wait(5)
        event = {"type": "shutdown", "scope": "plant", "reason": "年度检修"}
        result = CliRunner().invoke(
            app,
            [
                "agent",
                "--enterprise",
                ENT,
                "--mqtt-url",
                f"mqtt://{host}:{port}",
                "--topic-prefix",
                topic_prefix,
                "--event",
                json.dumps(event, ensure_ascii=False),
            ],
        )
        assert result.exit_code == 0, result.output
        assert "published 1 event(s)" in result.output
        assert arrived.wait(5)
    finally:
        client.loop_stop()
        client.disconnect()
    assert got[0]["type"] == "shutdown"
    assert got[0]["reason"] == "年度检修"
    assert isinstance(got[0]["event_id"], str)
    assert str(got[0]["ts"])[-6] in "+-"  # RFC 3339 with an offset


def test_agent_refuses_bad_input_clearly():
    runner = CliRunner()
    bad_code = runner.invoke(app, ["agent", "--enterprise", ENT[:-1] + "0"])
    assert bad_code.exit_code == 2
    assert "--enterprise refused" in bad_code.output
    no_camera = runner.invoke(app, ["agent", "--enterprise", ENT, "--camera", "nowhere.mp4"])
    assert no_camera.exit_code == 2
    assert "写法无效" in no_camera.output
    bad_event = runner.invoke(app, ["agent", "--enterprise", ENT, "--event", "{nope"])
    assert bad_event.exit_code == 2
    bad_url = runner.invoke(app, ["agent", "--enterprise", ENT, "--mqtt-url", "http://x"])
    assert bad_url.exit_code == 2
    assert "mqtt://" in bad_url.output
