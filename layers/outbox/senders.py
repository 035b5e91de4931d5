"""Sending one delivery: a webhook call, a message through the district's gateway, an e-mail.

Webhooks get ``POST`` with the event as JSON and ``X-Wangge-Signature: sha256=<hex>``, the
HMAC-SHA256 of the body under the endpoint's secret, and ``X-Wangge-Event-Id`` to
deduplicate by. SMS and WeChat template messages go to the district's own HTTP gateway
(``WANGGE_NOTIFY_GATEWAY_URL``) as ``{channel, to, template, params, text}``, signed the same
way with its secret; e-mail goes through SMTP (the standard library's ``smtplib``: there is
nothing to add for plain text mail). A channel without a sender is answered ``held``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx

from layers.outbox.delivery import Due, Result
from layers.outbox.events import visit_token

SIGNATURE = "X-Wangge-Signature"


@dataclass(frozen=True)
class Config:
    base_url: str
    secret: str  # makes the 回访 links
    gateway_url: str = ""
    gateway_secret: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "wangge@localhost"
    smtp_tls: bool = False
    timeout_s: float = 5.0

    @property
    def channels(self) -> list[str]:
        """The channels with a sender."""
        return (
            ["webhook"]
            + (["sms", "wechat"] if self.gateway_url else [])
            + (["email"] if self.smtp_host else [])
        )


def sign(secret: str, body: bytes) -> str:
    """The signature header's value of ``body``.

    >>> sign("s", b"{}")
    'sha256=143ca8d517ba1b181025d732b1cf275d90104fca57bb02a565542978aa18c4b6'
    """
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def text(due: Due, config: Config) -> tuple[str, dict[str, Any]]:
    """The message a reporter gets (Chinese: the district's residents), and its template params."""
    p = due.payload
    number, track = p["number"], config.base_url + p["track"]
    if due.kind == "notify.visit":
        link = f"{track}?visit={visit_token(config.secret, number)}"
        return f"【市北区网格】您反映的问题（编号{number}）已办结，请评价处理结果：{link}", {
            "number": number, "link": link,
        }  # fmt: skip
    said = f"【市北区网格】您反映的问题（编号{number}）{p['status_name']}"
    if p.get("reason"):
        said += f"，原因：{p['reason']}"
    return f"{said}。查看进度：{track}", {"number": number, "status": p["status"], "link": track}


class Senders:
    """One per worker: an HTTP client with kept-alive connections, and the configuration."""

    def __init__(self, config: Config) -> None:
        self.config = config
        limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
        self.http = httpx.Client(timeout=config.timeout_s, follow_redirects=False, limits=limits)

    def close(self) -> None:
        self.http.close()

    def send_line(self, line: list[Due]) -> list[Result]:
        """A line in order; after a failure the rest of it waits for the next round."""
        done: list[Result] = []
        for due in line:
            if done and not done[-1].ok and not done[-1].held:
                done.append(Result(due.id, False, skipped=True))
            else:
                done.append(self.send(due))
        return done

    def send(self, due: Due) -> Result:
        try:
            if due.channel == "webhook":
                return self._webhook(due)
            if due.channel in ("sms", "wechat"):
                return self._gateway(due)
            return self._email(due)
        except (httpx.HTTPError, OSError, smtplib.SMTPException) as exc:
            return Result(due.id, False, error=f"{exc.__class__.__name__}: {exc}"[:500])

    def _post(self, url: str, secret: str, body: dict[str, Any], event_id: str, kind: str) -> Result:
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json", SIGNATURE: sign(secret, raw), "X-Wangge-Event-Id": event_id,
            "X-Wangge-Event": kind, "User-Agent": "wangge-outbox/1",
        }  # fmt: skip
        answer = self.http.post(url, content=raw, headers=headers)
        ok = 200 <= answer.status_code < 300
        return Result(0, ok, answer.status_code, None if ok else f"HTTP {answer.status_code}")

    def _webhook(self, due: Due) -> Result:
        assert due.url is not None and due.secret is not None
        body = {
            "id": due.event_id,
            "type": due.kind,
            "created_at": due.created_at.isoformat(),
            "data": due.payload,
        }
        r = self._post(due.url, due.secret, body, due.event_id, due.kind)
        return Result(due.id, r.ok, r.status, r.error)

    def _gateway(self, due: Due) -> Result:
        if not self.config.gateway_url:
            return Result(due.id, False, held=True)
        said, params = text(due, self.config)
        body = {"id": due.event_id, "channel": due.channel, "to": due.target, "template": due.kind,
                "params": params, "text": said}  # fmt: skip
        r = self._post(self.config.gateway_url, self.config.gateway_secret, body, due.event_id, due.kind)
        return Result(due.id, r.ok, r.status, r.error)

    def _email(self, due: Due) -> Result:
        c = self.config
        if not c.smtp_host:
            return Result(due.id, False, held=True)
        said, _ = text(due, c)
        mail = EmailMessage()
        mail["From"], mail["To"] = c.smtp_from, due.target
        mail["Subject"] = f"市北区网格 · 编号{due.payload['number']}"
        mail["Message-ID"] = f"<{due.event_id}.{due.id}@wangge>"
        mail.set_content(said)
        with smtplib.SMTP(c.smtp_host, c.smtp_port, timeout=c.timeout_s) as smtp:
            if c.smtp_tls:
                smtp.starttls()
            if c.smtp_user:
                smtp.login(c.smtp_user, c.smtp_password)
            smtp.send_message(mail)
        return Result(due.id, True)
