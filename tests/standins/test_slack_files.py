"""The Slack stand-in takes file uploads as slack_sdk's files_upload_v2 makes them."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from tests.standins import SlackStandIn
from tests.standins.slack import UPLOAD_FAULT_KEY

BOT_AUTH = {"Authorization": "Bearer xoxb-test-token"}
# A PNG signature and bytes of every value, CR LF and multipart-looking dashes among them.
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--\r\n\r\n"


def client_for(slack: SlackStandIn) -> AsyncWebClient:
    """The real SDK client, pointed at the stand-in."""
    return AsyncWebClient(token=slack.valid_token, base_url=slack.api_url)


def image_blocks(file_id: str) -> list[dict[str, Any]]:
    """A message showing one uploaded file."""
    return [{"type": "image", "slack_file": {"id": file_id}, "alt_text": "x"}]


def upload_url(slack: SlackStandIn, filename: str = "a.png", length: int = 3) -> dict[str, Any]:
    """files.getUploadURLExternal's answer, called as a form."""
    form = {"filename": filename, "length": str(length)}
    answer: dict[str, Any] = httpx.post(
        slack.api_url + "files.getUploadURLExternal", data=form, headers=BOT_AUTH
    ).json()
    return answer


def complete(slack: SlackStandIn, files: Any, **form: str) -> dict[str, Any]:
    """files.completeUploadExternal's answer, called as a form."""
    form["files"] = json.dumps(files)
    answer: dict[str, Any] = httpx.post(
        slack.api_url + "files.completeUploadExternal", data=form, headers=BOT_AUTH
    ).json()
    return answer


async def test_private_upload_keeps_the_bytes_and_posts_nothing(slack: SlackStandIn) -> None:
    """Without a channel the file is completed but shared nowhere."""
    uploaded = await client_for(slack).files_upload_v2(
        content=PNG, filename="chart.png", title="Leads by day"
    )

    file = uploaded["file"]
    [upload] = slack.uploads()
    assert uploaded["files"] == [file]
    assert file["id"] == upload.file_id
    assert file["title"] == "Leads by day"
    assert file["name"] == "chart.png"
    assert file["mimetype"] == "image/png"
    assert file["size"] == len(PNG)
    assert upload.content == PNG
    assert upload.length == len(PNG)
    assert upload.completed is True
    assert upload.channel_id is None
    assert slack.channels() == []


async def test_the_sdk_requests_are_recorded_without_the_bytes(slack: SlackStandIn) -> None:
    """Each step is recorded; the post of the bytes shows only the file ID and size."""
    uploaded = await client_for(slack).files_upload_v2(content=PNG, filename="chart.png")
    file_id = uploaded["file"]["id"]

    [url_call] = slack.calls("files.getUploadURLExternal")
    [bytes_post] = slack.records(f"/upload/v1/{file_id}")
    [completion] = slack.calls("files.completeUploadExternal")
    assert url_call == {"filename": "chart.png", "length": str(len(PNG))}
    assert bytes_post.body == {"file_id": file_id, "size": len(PNG)}
    assert bytes_post.status == 200
    assert "authorization" not in bytes_post.headers
    assert completion["files"] == [{"id": file_id, "title": "chart.png"}]


async def test_upload_to_a_channel_shares_it_in_a_message(slack: SlackStandIn) -> None:
    """With a channel, the file arrives in one message with the initial comment."""
    client = client_for(slack)
    parent = await client.chat_postMessage(channel="C1", text="digest")

    uploaded = await client.files_upload_v2(
        content=PNG,
        filename="chart.png",
        title="Chart",
        channel="C1",
        initial_comment="Today",
        thread_ts=parent["ts"],
    )

    [upload] = slack.wait_for_uploads(1, timeout=5)
    [_, message] = slack.messages("C1")
    assert upload.channel_id == "C1"
    assert upload.content == PNG
    assert message["text"] == "Today"
    assert message["thread_ts"] == parent["ts"]
    assert [f["id"] for f in message["files"]] == [uploaded["file"]["id"]]
    assert message["files"][0]["title"] == "Chart"


async def test_an_image_block_shows_only_completed_uploads(slack: SlackStandIn) -> None:
    """A slack_file image of an uploaded file is accepted; of an unknown one, invalid_blocks."""
    client = client_for(slack)
    uploaded = await client.files_upload_v2(content=PNG, filename="chart.png", title="Chart")
    file_id = uploaded["file"]["id"]

    posted = await client.chat_postMessage(channel="C1", text="x", blocks=image_blocks(file_id))
    updated = await client.chat_update(
        channel="C1", ts=posted["ts"], text="y", blocks=image_blocks(file_id)
    )
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="x", blocks=image_blocks("F0NOPE"))
    with pytest.raises(SlackApiError) as refused_edit:
        await client.chat_update(
            channel="C1", ts=posted["ts"], text="z", blocks=image_blocks("F0NOPE")
        )

    assert posted["ok"] is True
    assert updated["ok"] is True
    assert refused.value.response["error"] == "invalid_blocks"
    assert refused.value.response["errors"] == [
        "invalid slack_file [json-pointer:/blocks/0/slack_file]"
    ]
    assert refused_edit.value.response["error"] == "invalid_blocks"
    assert [m["text"] for m in slack.messages("C1")] == ["y"]


def test_context_images_and_file_urls_are_checked_too(slack: SlackStandIn) -> None:
    """Image elements in context blocks count; a slack_file by URL cannot be checked."""
    by_url = {
        "type": "image",
        "slack_file": {"url": "https://files.slack.com/x.png"},
        "alt_text": "x",
    }
    context = {"type": "context", "elements": [{"type": "image", "slack_file": {"id": "F0NOPE"}}]}

    accepted = httpx.post(
        slack.api_url + "chat.postMessage",
        json={"channel": "C1", "blocks": [by_url]},
        headers=BOT_AUTH,
    ).json()
    refused = httpx.post(
        slack.api_url + "chat.postMessage",
        json={"channel": "C1", "blocks": [by_url, context]},
        headers=BOT_AUTH,
    ).json()

    assert accepted["ok"] is True
    assert refused["error"] == "invalid_blocks"
    assert refused["errors"] == [
        "invalid slack_file [json-pointer:/blocks/1/elements/0/slack_file]"
    ]


async def test_a_failed_completion_leaves_the_file_unusable(slack: SlackStandIn) -> None:
    """fail_next on files.completeUploadExternal fails the upload; its file cannot be shown."""
    slack.fail_next("files.completeUploadExternal", status=200, error="internal_error")
    client = client_for(slack)

    with pytest.raises(SlackApiError) as failed:
        await client.files_upload_v2(content=PNG, filename="chart.png")
    [upload] = slack.uploads()
    with pytest.raises(SlackApiError) as refused:
        await client.chat_postMessage(channel="C1", text="x", blocks=image_blocks(upload.file_id))

    assert failed.value.response["error"] == "internal_error"
    assert upload.content == PNG
    assert upload.completed is False
    assert slack.uploads(completed_only=True) == []
    assert refused.value.response["error"] == "invalid_blocks"


async def test_a_failed_post_of_the_bytes_fails_the_upload(slack: SlackStandIn) -> None:
    """fail_next("upload") fails the next post to an upload URL; nothing is completed."""
    slack.fail_next(UPLOAD_FAULT_KEY, status=500)

    with pytest.raises(SlackRequestError, match="status: 500"):
        await client_for(slack).files_upload_v2(content=PNG, filename="chart.png")

    [upload] = slack.uploads()
    assert upload.content is None
    assert slack.calls("files.completeUploadExternal") == []


def test_completion_needs_the_bytes(slack: SlackStandIn) -> None:
    """A file whose bytes never arrived, or an unknown one, is not found; none are completed."""
    waiting = upload_url(slack)["file_id"]
    done = upload_url(slack)
    httpx.post(done["upload_url"], content=b"abc")

    missing = complete(slack, [{"id": done["file_id"]}, {"id": waiting}])
    unknown = complete(slack, [{"id": "F0NOPE"}])
    malformed = complete(slack, {"id": done["file_id"]})

    assert missing == {"ok": False, "error": "file_not_found"}
    assert unknown == {"ok": False, "error": "file_not_found"}
    assert malformed == {"ok": False, "error": "invalid_arguments"}
    assert slack.uploads(completed_only=True) == []


def test_completion_shares_into_several_channels(slack: SlackStandIn) -> None:
    """`channels` shares one file into each channel listed."""
    given = upload_url(slack, "notes.txt")
    httpx.post(given["upload_url"], content=b"abc")

    answer = complete(slack, [{"id": given["file_id"], "title": "Notes"}], channels="C1,C2")

    [file] = answer["files"]
    assert (file["title"], file["mimetype"], file["size"]) == ("Notes", "text/plain", 3)
    assert [m["files"][0]["id"] for m in slack.messages("C1")] == [given["file_id"]]
    assert [m["files"][0]["id"] for m in slack.messages("C2")] == [given["file_id"]]
    assert slack.uploads()[0].channel_ids == ("C1", "C2")


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"length": "3"}, "invalid_arguments"),
        ({"filename": "a.png"}, "invalid_arguments"),
        ({"filename": "a.png", "length": "three"}, "invalid_arguments"),
        ({"filename": "a.png", "length": "0"}, "missing_argument"),
    ],
)
def test_upload_url_needs_a_filename_and_a_length(
    slack: SlackStandIn, form: dict[str, str], error: str
) -> None:
    """files.getUploadURLExternal refuses a missing filename or a length that is no size."""
    answer = httpx.post(slack.api_url + "files.getUploadURLExternal", data=form, headers=BOT_AUTH)

    assert answer.json() == {"ok": False, "error": error}
    assert slack.uploads() == []


def test_upload_urls_are_fresh_and_on_the_standin(slack: SlackStandIn) -> None:
    """Each call hands out a new file ID and a URL on this stand-in."""
    first, second = upload_url(slack), upload_url(slack)

    assert first["ok"] is True
    assert first["file_id"].startswith("F")
    assert first["file_id"] != second["file_id"]
    assert first["upload_url"] == f"{slack.url}/upload/v1/{first['file_id']}"


def test_upload_url_takes_multipart_forms_and_refuses_unknown_ids(slack: SlackStandIn) -> None:
    """A multipart form's file part is kept; unknown or spent URLs answer 404."""
    given = upload_url(slack, length=len(PNG))
    url = given["upload_url"]

    posted = httpx.post(url, files={"filename": ("chart.png", PNG, "image/png")})
    unknown = httpx.post(f"{slack.url}/upload/v1/F0NOPE", content=b"abc")
    got = httpx.get(url)
    complete(slack, [{"id": given["file_id"]}])
    spent = httpx.post(url, content=b"abc")

    assert (posted.status_code, posted.text) == (200, f"OK - {len(PNG)}")
    assert posted.headers["content-type"].startswith("text/plain")
    assert slack.uploads()[0].content == PNG
    assert unknown.status_code == 404
    assert got.status_code == 405
    assert spent.status_code == 404
    assert slack.uploads()[0].content == PNG


def test_wait_for_uploads_waits_for_completion_and_reports(slack: SlackStandIn) -> None:
    """wait_for_uploads returns once enough are completed; a timeout lists what arrived."""
    given = upload_url(slack)
    httpx.post(given["upload_url"], content=b"abc")

    with pytest.raises(AssertionError, match=r"got 0: none"):
        slack.wait_for_uploads(1, timeout=0.2)
    with pytest.raises(AssertionError, match=r"not completed, 3 bytes"):
        slack.wait_for_uploads(2, timeout=0.2, completed_only=False)
    threading.Timer(0.2, complete, [slack, [{"id": given["file_id"]}]]).start()
    [upload] = slack.wait_for_uploads(1, timeout=5)

    assert upload.completed is True


def test_reset_forgets_uploads_and_never_reuses_their_ids(slack: SlackStandIn) -> None:
    """After reset() old upload URLs are unknown, and new file IDs differ from old ones."""
    old = upload_url(slack)

    slack.reset()
    new = upload_url(slack)
    stale = httpx.post(old["upload_url"], content=b"abc")

    assert slack.uploads()[0].file_id == new["file_id"] != old["file_id"]
    assert stale.status_code == 404


def test_upload_methods_need_the_token(slack: SlackStandIn) -> None:
    """files.getUploadURLExternal answers invalid_auth without the bot token."""
    answer = httpx.post(
        slack.api_url + "files.getUploadURLExternal", data={"filename": "a", "length": "1"}
    )

    assert answer.json() == {"ok": False, "error": "invalid_auth"}
    assert slack.uploads() == []
