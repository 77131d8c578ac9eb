"""The fake Slack Web API and the Slack request signer behave like the real things."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from tests.fakes import slack_client as sc
from tests.fakes.slack_api import FakeSlack
from tests.fakes.slack_client import SlackSender

SECRET = "s3cret"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    """A started fake, stopped afterwards."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    """slack_sdk's real client pointed at the fake, without retries."""
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[], timeout=3)


# --------------------------------------------------------------------------- FakeSlack


def test_url_forms(fake: FakeSlack) -> None:
    assert fake.url == f"{fake.base}/api/"
    assert fake.base.startswith("http://127.0.0.1:")


def test_auth_test_and_tokens(fake: FakeSlack, client: WebClient) -> None:
    assert client.auth_test()["team_id"] == "T1"
    fake.tokens["xoxb-other"] = "T2"
    other = WebClient(token="xoxb-other", base_url=fake.url, retry_handlers=[])
    answer = other.auth_test()
    assert (answer["team_id"], answer["user_id"], answer["bot_id"]) == ("T2", "UBOT", "BBOT")
    fake.strict_tokens = True
    with pytest.raises(SlackApiError) as caught:
        client.auth_test()
    assert caught.value.response["error"] == "invalid_auth"
    call = fake.calls_to("auth.test")[-1]
    assert call.token == "xoxb-test" and "token" not in call.params and call.outcome == "error:invalid_auth"


def test_post_message_then_history_with_metadata_only_when_asked(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "review", "event_payload": {"id": 7}}
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    first = client.chat_postMessage(channel="C1", text="one", blocks=blocks, metadata=metadata)
    second = client.chat_postMessage(channel="C1", text="two")
    assert float(second["ts"]) > float(first["ts"])
    call = fake.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == blocks and call.params["metadata"] == metadata
    plain_history = client.conversations_history(channel="C1")["messages"]
    assert [m["text"] for m in plain_history] == ["two", "one"]
    assert "metadata" not in plain_history[1]
    with_meta = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert with_meta[1]["metadata"] == metadata and with_meta[1]["blocks"] == blocks


def test_form_encoded_json_params_are_decoded(fake: FakeSlack) -> None:
    body = {"channel": "C9", "text": "x", "blocks": json.dumps([{"type": "divider"}]), "token": "xoxb-form"}
    answer = httpx.post(f"{fake.url}chat.postMessage", data=body).json()
    assert answer["ok"] and answer["channel"] == "C9"
    call = fake.calls_to("chat.postMessage")[0]
    assert call.params["blocks"] == [{"type": "divider"}] and call.token == "xoxb-form"
    assert "token" not in call.params


def test_get_with_query_string(fake: FakeSlack) -> None:
    answer = httpx.get(f"{fake.url}users.info?user=U5").json()
    assert answer["user"]["id"] == "U5" and answer["user"]["is_bot"] is False
    assert fake.calls_to("users.info")[0].params == {"user": "U5"}


def test_post_to_user_id_lands_in_dm(fake: FakeSlack, client: WebClient) -> None:
    answer = client.chat_postMessage(channel="U7", text="hi")
    assert answer["channel"] == "DU7"
    assert client.conversations_open(users="U7,U8")["channel"]["id"] == "DU7"


def test_update_and_replies(fake: FakeSlack, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=parent)
    updated = client.chat_update(channel="C1", ts=parent, text="edited")
    assert updated["ts"] == parent and fake.message("C1", parent)["text"] == "edited"
    replies = client.conversations_replies(channel="C1", ts=parent)["messages"]
    assert [m["text"] for m in replies] == ["edited", "reply"]
    assert [m["text"] for m in client.conversations_history(channel="C1")["messages"]] == ["edited"]
    with pytest.raises(SlackApiError) as caught:
        client.chat_update(channel="C1", ts="1.000000", text="x")
    assert caught.value.response["error"] == "message_not_found"


def test_scripted_thread_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    fake.threads[("C1", "5.0")] = [{"ts": "5.0", "text": "p"}, {"ts": "6.0", "text": "r", "user": "U2"}]
    assert len(client.conversations_replies(channel="C1", ts="5.0")["messages"]) == 2
    link = client.chat_getPermalink(channel="C1", message_ts="1700000000.000100")["permalink"]
    assert link == "https://example.slack.com/archives/C1/p1700000000000100"


def test_join_info_and_archive(fake: FakeSlack, client: WebClient) -> None:
    fake.archived.add("C3")
    assert client.conversations_info(channel="C3")["channel"]["is_archived"] is True
    client.conversations_join(channel="C2")
    assert "C2" in fake.joined
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C3", text="x")
    assert caught.value.response["error"] == "is_archived"


def test_views_echo_and_publish(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "T"},
        "blocks": blocks,
    }
    opened = client.views_open(trigger_id="t", view=view)["view"]
    assert opened["callback_id"] == "cb" and opened["id"].startswith("V") and opened["hash"].startswith("h")
    assert fake.calls_to("views.open")[0].params["view"]["callback_id"] == "cb"
    updated = client.views_update(view_id=opened["id"], view=view)["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks})
    assert fake.home_views["U1"]["type"] == "home"


def test_users(fake: FakeSlack, client: WebClient) -> None:
    fake.add_user("U9", team_id="T2", deleted=True, tz="Europe/Berlin", tz_offset=3600, real_name="Ada")
    user = client.users_info(user="U9")["user"]
    assert (user["team_id"], user["deleted"], user["tz"], user["real_name"]) == (
        "T2",
        True,
        "Europe/Berlin",
        "Ada",
    )
    assert client.users_profile_get(user="U9")["profile"]["real_name"] == "Ada"


def test_ratelimited_429_with_retry_after(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    response = caught.value.response
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert response["error"] == "ratelimited"
    assert fake.calls_to("chat.postMessage")[0].outcome == "http:429"
    assert fake.messages_in("C1") == []
    assert client.chat_postMessage(channel="C1", text="x")["ok"]


def test_server_error_500(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.update", status=500, times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            client.chat_update(channel="C1", ts="1.0", text="x")
        assert caught.value.response.status_code == 500
    assert [c.outcome for c in fake.calls_to("chat.update")] == ["http:500", "http:500"]


def test_error_not_in_channel(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", error="not_in_channel")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="x")
    assert caught.value.response.status_code == 200 and caught.value.response["error"] == "not_in_channel"
    assert fake.calls_to("chat.postMessage")[0].outcome == "error:not_in_channel"


def test_needs_join_until_joined(fake: FakeSlack, client: WebClient) -> None:
    fake.needs_join.add("C5")
    with pytest.raises(SlackApiError):
        client.chat_postMessage(channel="C5", text="x")
    client.conversations_join(channel="C5")
    assert client.chat_postMessage(channel="C5", text="x")["ok"]


def test_dropped_response_after_applying(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", drop=True, apply=True)
    with pytest.raises((ConnectionError, OSError)):
        client.chat_postMessage(channel="C1", text="lost answer")
    assert [m["text"] for m in fake.messages_in("C1")] == ["lost answer"]
    assert fake.calls_to("chat.postMessage")[0].outcome == "dropped"


def test_dropped_without_applying(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", drop=True)
    with pytest.raises((ConnectionError, OSError)):
        client.chat_postMessage(channel="C1", text="never")
    assert fake.messages_in("C1") == []


def test_fail_next_needs_a_failure(fake: FakeSlack) -> None:
    with pytest.raises(ValueError):
        fake.fail_next("chat.postMessage")


def test_rate_limit_post_message(fake: FakeSlack, client: WebClient) -> None:
    fake.rate_limit_post_message(per_channel_per_second=1.0)
    client.chat_postMessage(channel="C1", text="a")
    client.chat_postMessage(channel="C2", text="b")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="C1", text="c")
    assert caught.value.response.status_code == 429 and caught.value.response.headers["Retry-After"] == "1"


def test_wait_for_from_another_thread(fake: FakeSlack, client: WebClient) -> None:
    def later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C1", text="a")
        client.chat_postMessage(channel="C1", text="b")

    threading.Thread(target=later, daemon=True).start()
    calls = fake.wait_for("chat.postMessage", count=2, timeout=5)
    assert [c.params["text"] for c in calls] == ["a", "b"]
    assert fake.wait_for_call(lambda c: c.params.get("text") == "b").method == "chat.postMessage"


def test_wait_for_timeout_lists_methods(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"auth\.test"):
        fake.wait_for("chat.postMessage", timeout=0.2)
    fake.clear()
    assert fake.calls == []


def test_response_url_recording(fake: FakeSlack) -> None:
    url = fake.response_url("cmd")
    answer = httpx.post(url, json={"text": "hi", "response_type": "ephemeral"})
    assert answer.status_code == 200 and answer.text == "ok"
    call = fake.wait_for("response_url")[0]
    assert call.params == {"text": "hi", "response_type": "ephemeral", "_path": "cmd"}


def test_upload_flow(fake: FakeSlack, client: WebClient) -> None:
    result = client.files_upload_v2(channel="C1", content="a,b\n1,2\n", filename="export.csv", title="Export")
    file_id = result["file"]["id"]
    assert fake.uploads[file_id] == b"a,b\n1,2\n"
    complete = fake.calls_to("files.completeUploadExternal")[0]
    assert complete.params["files"][0]["id"] == file_id and complete.params["channel_id"] == "C1"


def test_oauth_access(fake: FakeSlack, client: WebClient) -> None:
    fake.oauth_responses["good"] = {"access_token": "xoxb-new", "team": {"id": "T3"}}
    assert client.oauth_v2_access(client_id="c", client_secret="s", code="good")["access_token"] == "xoxb-new"
    with pytest.raises(SlackApiError) as caught:
        client.oauth_v2_access(client_id="c", client_secret="s", code="good")
    assert caught.value.response["error"] == "invalid_code"


def test_other_methods_answer_ok(fake: FakeSlack, client: WebClient) -> None:
    assert client.api_call("reactions.add", params={"channel": "C1", "name": "tada"})["ok"]
    assert client.apps_connections_open(app_token="xapp-1")["url"].startswith("wss://")


def test_multipart_does_not_crash(fake: FakeSlack) -> None:
    answer = httpx.post(f"{fake.url}files.upload", data={"channels": "C1"}, files={"file": ("a.txt", b"abc")})
    assert answer.json() == {"ok": True}
    params = fake.calls_to("files.upload")[0].params
    assert params["channels"] == "C1" and params["file"] == b"abc"


def test_handler_crash_answers_500(fake: FakeSlack) -> None:
    answer = httpx.post(
        f"{fake.url}chat.postMessage", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 500 and fake.errors
    assert fake.calls[-1].outcome == "http:500"


def test_concurrent_posts_get_unique_ts(fake: FakeSlack) -> None:
    results: list[str] = []

    def post(i: int) -> None:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        results.append(client.chat_postMessage(channel="C1", text=str(i))["ts"])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 20 and len(fake.calls_to("chat.postMessage")) == 20


# --------------------------------------------------------------------------- SlackSender


def test_sign_matches_slack_sdk_verifier() -> None:
    sender = SlackSender("http://127.0.0.1:1", SECRET)
    body = b"token=x&team_id=T1&text=hello%20world"
    headers = sender.sign(body)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    sender.close()


def test_stale_and_future_timestamps_fail_verification() -> None:
    sender = SlackSender("http://127.0.0.1:1", SECRET)
    body = b"payload=%7B%7D"
    verifier = SignatureVerifier(SECRET)
    for offset in (-600, 600):
        headers = sender.sign(body, timestamp=int(time.time()) + offset)
        assert not verifier.is_valid_request(body, headers)
        assert (
            verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
            is False
        )
    sender.close()


class _Recorder:
    """Collects the raw requests sent to a MockTransport."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, text="ok")


@pytest.fixture
def recorded() -> Iterator[tuple[SlackSender, _Recorder]]:
    """A sender whose HTTP client records requests instead of sending them."""
    recorder = _Recorder()
    sender = SlackSender("http://bot.test", SECRET, response_base="http://fake/response/")
    sender.client = httpx.Client(transport=httpx.MockTransport(recorder))
    yield sender, recorder
    sender.close()


def _verified(request: httpx.Request) -> bool:
    return SignatureVerifier(SECRET).is_valid_request(request.content, dict(request.headers))


def test_command_is_form_encoded_and_signed(recorded: tuple[SlackSender, _Recorder]) -> None:
    sender, recorder = recorded
    sender.command("/cop", "review start", team_id="T2", user_id="U3", channel_id="C4")
    request = recorder.requests[0]
    assert str(request.url) == "http://bot.test/slack/events"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert _verified(request)
    form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
    assert form["command"] == "/cop" and form["text"] == "review start" and form["team_id"] == "T2"
    assert form["is_enterprise_install"] == "false" and form["trigger_id"]
    assert form["response_url"].startswith("http://fake/response/")
    sender.command("/cop")
    second = parse_qs(recorder.requests[1].content.decode())
    assert second["trigger_id"] != [form["trigger_id"]]


def test_negative_signing_options(recorded: tuple[SlackSender, _Recorder]) -> None:
    sender, recorder = recorded
    sender.command("/cop", bad_signature=True)
    sender.command("/cop", unsigned=True)
    sender.command("/cop", timestamp=int(time.time()) - 600)
    bad, unsigned, stale = recorder.requests
    assert not _verified(bad)
    assert "x-slack-signature" not in unsigned.headers
    assert not _verified(stale)
    response = sender.post_raw(b"x=1", {"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and recorder.requests[-1].content == b"x=1"


def test_event_envelope_and_retry_headers(recorded: tuple[SlackSender, _Recorder]) -> None:
    sender, recorder = recorded
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> hi", "channel": "C1", "ts": "1.0"}
    sender.event(event, team_id="T2", event_id="Ev1", retry_num=1)
    request = recorder.requests[0]
    assert _verified(request)
    body = json.loads(request.content)
    assert body["type"] == "event_callback" and body["event"] == event and body["event_id"] == "Ev1"
    assert body["authorizations"][0] == {
        "enterprise_id": None,
        "team_id": "T2",
        "user_id": "UBOT",
        "is_bot": True,
        "is_enterprise_install": False,
    }
    assert (
        request.headers["x-slack-retry-num"] == "1"
        and request.headers["x-slack-retry-reason"] == "http_timeout"
    )
    sender.url_verification("abc")
    assert json.loads(recorder.requests[1].content) == {
        "token": sc.VERIFICATION_TOKEN,
        "challenge": "abc",
        "type": "url_verification",
    }


def _payload(request: httpx.Request) -> dict[str, Any]:
    form = parse_qs(request.content.decode())
    return json.loads(form["payload"][0])


def test_interaction_payload_shapes(recorded: tuple[SlackSender, _Recorder]) -> None:
    sender, recorder = recorded
    values = {
        "title": {"t": sc.plain("Hi")},
        "when": {"d": sc.datepicker("2024-05-01")},
        "who": {"u": sc.users(["U2"])},
        "kind": {"k": sc.static(None)},
    }
    sender.view_submission("review_modal", values, private_metadata='{"c": 1}', user_id="U5")
    sender.block_action("approve", value="42", message_ts="1.5")
    sender.block_action(
        "pick",
        action_type="static_select",
        view={"type": "home", "callback_id": "home"},
        extra_action={"selected_option": {"value": "x"}},
    )
    sender.message_shortcut("recognise", message={"ts": "9.9", "text": "nice", "user": "U2"})
    sender.block_suggestion("tag", "py", block_id="tags")
    assert all(_verified(r) for r in recorder.requests)
    submit, click, home, shortcut, suggest = (_payload(r) for r in recorder.requests)
    assert submit["type"] == "view_submission" and submit["view"]["state"]["values"] == values
    assert submit["view"]["callback_id"] == "review_modal" and submit["user"]["id"] == "U5"
    assert submit["view"]["private_metadata"] == '{"c": 1}' and submit["team"]["id"] == "T1"
    assert click["actions"][0]["value"] == "42" and click["container"]["message_ts"] == "1.5"
    assert click["channel"]["id"] == "C1" and click["response_url"].startswith("http://fake/response/")
    assert home["container"]["type"] == "view" and home["view"]["type"] == "home"
    assert home["actions"][0]["selected_option"] == {"value": "x"} and "response_url" not in home
    assert shortcut["type"] == "message_action" and shortcut["message_ts"] == "9.9"
    assert (
        suggest["type"] == "block_suggestion" and suggest["value"] == "py" and suggest["block_id"] == "tags"
    )


def test_state_value_helpers() -> None:
    assert sc.static("a")["selected_option"]["value"] == "a"
    assert sc.external("e")["type"] == "external_select"
    assert sc.user("U1") == {"type": "users_select", "selected_user": "U1"}
    assert sc.timepicker("09:30")["selected_time"] == "09:30"
    assert [o["value"] for o in sc.checkboxes(["a", "b"])["selected_options"]] == ["a", "b"]
    assert sc.radio("r")["selected_option"]["value"] == "r"


def test_sender_against_a_real_socket(fake: FakeSlack) -> None:
    with SlackSender(fake.base, SECRET) as sender:
        response = sender.command("/cop", "x")
    assert response.status_code == 404
    call = fake.wait_for("unknown:/slack/events")[0]
    assert call.params["command"] == "/cop" and "x-slack-signature" in call.headers


def test_ts_clock_oldest_and_paging(fake: FakeSlack, client: WebClient) -> None:
    fake.ts_clock = lambda: 1700000000.0
    first = client.chat_postMessage(channel="C1", text="a")["ts"]
    assert first == "1700000000.000000"
    for text in ("b", "c"):
        client.chat_postMessage(channel="C1", text=text)
    newer = client.conversations_history(channel="C1", oldest=first)["messages"]
    assert [m["text"] for m in newer] == ["c", "b"]
    page = client.conversations_history(channel="C1", limit=2)
    assert page["has_more"] and len(page["messages"]) == 2
    cursor = page["response_metadata"]["next_cursor"]
    rest = client.conversations_history(channel="C1", limit=2, cursor=cursor)["messages"]
    assert [m["text"] for m in rest] == ["a"]


def test_seeded_human_message(fake: FakeSlack, client: WebClient) -> None:
    seeded = fake.add_message("C1", "from a person", user="U2")
    assert client.conversations_history(channel="C1")["messages"][0]["ts"] == seeded["ts"]


def test_fake_refuses_methods_the_manifest_has_no_scope_for() -> None:
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-1", base_url=fake.url)
        fake.add_message("D1", "hello")
        assert client.conversations_history(channel="D1")["ok"]  # im:history is declared
        fake.bot_scopes.discard("im:history")
        with pytest.raises(SlackApiError) as refused:
            client.conversations_history(channel="D1")
        assert refused.value.response["error"] == "missing_scope"
        assert refused.value.response["needed"] == "im:history"
        assert client.conversations_history(channel="C1")["ok"]  # channels:history still granted


def test_fake_refuses_block_kit_that_slack_sdk_models_refuse() -> None:
    with FakeSlack() as fake:
        client = WebClient(token="xoxb-1", base_url=fake.url)
        long_title = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}
        with pytest.raises(SlackApiError) as refused:
            client.views_open(trigger_id="t", view=long_title)
        assert refused.value.response["error"] == "invalid_arguments"
        bad_blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C1", text="t", blocks=bad_blocks)
        assert refused.value.response["error"] == "invalid_blocks"
        assert len(fake.invalid_payloads) == 2 and fake.messages_in("C1") == []
        fine = [{"type": "section", "text": {"type": "mrkdwn", "text": "ok"}}]
        assert client.chat_postMessage(channel="C1", text="t", blocks=fine)["ok"]
