"""A fake Bluesky PDS (and entryway) on 127.0.0.1 enforcing NEXT_PLATFORMS.md section 2.

It checks what a real PDS checks, so a client that passes here sends well-formed
requests:

- ``createSession`` (identifier + password; wrong ones get 401 AuthenticationRequired;
  30 per 5 minutes per account, then 429 RateLimitExceeded), ``refreshSession``
  (Bearer refresh JWT, **no body**, rotating: a spent refresh JWT is dead), and
  ``getSession``; access JWTs carry a real ``exp`` and expire after ``access_ttl``
  seconds, then every call answers **400 ExpiredToken** (never 401);
- ``uploadBlob``: raw bytes with an image Content-Type, blob refs; a blob not used by
  a record within ``blob_ttl`` seconds is garbage;
- ``createRecord``: the repo is the token's DID, ``app.bsky.feed.post`` records with
  text ≤ 300 graphemes and ≤ 3000 UTF-8 bytes, facets as UTF-8 byte ranges inside the
  text (end exclusive) with known features, images ≤ 4 with ``alt`` and a known blob
  ≤ 1,000,000 bytes, or a link card (``app.bsky.embed.external``: uri, title and
  description strings, an optional thumb blob held to the same rules); a client ``rkey`` must be a TID, and a second create with the
  same key is refused (``collision``: ``"explicit"`` → 400 InvalidRequest
  "RecordAlreadyExists", ``"internal"`` → 500 InternalServerError as the reference
  PDS answers today);
- ``getRecord`` (400 RecordNotFound), ``resolveHandle`` (400 for unknown handles);
- ``app.bsky.feed.getPosts`` (``uris`` repeated, 1 to 25 AT-URIs, else 400
  InvalidRequest): the posts' views with ``likeCount``, ``repostCount``,
  ``replyCount`` and ``quoteCount`` (:meth:`FakeBluesky.set_counts`), posts that do
  not exist (or were deleted) left out; ``read_limit`` calls per window, then 429
  RateLimitExceeded;
- ``RateLimit-*`` headers on every answer, the reset in epoch seconds;
- the session answers carry a DID document naming ``pds_endpoint`` as the account's
  PDS; :meth:`FakeBluesky.pds_of` makes that PDS a second server sharing the state,
  and ``role = "entryway"`` keeps the first to the session calls.

Graphemes are counted by the client module's counter (there is no second one here).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from milton_desktop.publishers.bluesky import graphemes, new_tid
from tests.fakes.server import FakeServer, Reply, Request, bearer

TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
POST = "app.bsky.feed.post"
FEATURES = {
    "app.bsky.richtext.facet#link": "uri",
    "app.bsky.richtext.facet#mention": "did",
    "app.bsky.richtext.facet#tag": "tag",
}


def jwt(claims: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part(claims)}.{secrets.token_urlsafe(32)}"


@dataclass
class Account:
    did: str
    handle: str
    password: str
    sessions: list[float] = field(default_factory=list)  # createSession times
    active: bool = True


@dataclass
class Token:
    value: str
    did: str
    kind: str  # access | refresh
    expires_at: float
    spent: bool = False


@dataclass
class Blob:
    cid: str
    did: str
    mime: str
    size: int
    uploaded_at: float
    used: bool = False


def _error(status: int, error: str, message: str) -> Reply:
    return Reply(status, {"error": error, "message": message})


class FakeBluesky(FakeServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.accounts: dict[str, Account] = {}  # by did
        self.tokens: dict[str, Token] = {}
        self.blobs: dict[str, Blob] = {}
        #: (did, rkey) -> {"uri", "cid", "value"}
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.access_ttl = 7200.0
        self.refresh_ttl = 90 * 86400.0
        self.blob_ttl = 600.0
        self.collision = "explicit"
        self.session_limit = 30
        self.pds_endpoint = "https://pds.example.test"
        #: createSession and refreshSession answer with the account's DID document
        self.send_did_doc = True
        #: "entryway" serves only the session calls, as a test of where requests go
        #: (the real one forwards the rest to the PDS); "pds" serves everything
        self.role = "pds"
        self._names_itself = False  # a PDS of pds_of: its DID documents name its own url
        self.rate_limit = 3000
        self.rate_window = 300
        self._served = 0
        #: getPosts calls allowed per ``rate_window`` (then 429)
        self.read_limit = 3000
        self._reads: list[float] = []
        #: counters by post AT-URI (:meth:`set_counts`)
        self.counts: dict[str, dict[str, int]] = {}

    # ------------------------------------------------------------ set-up
    @classmethod
    def pds_of(cls, entryway: FakeBluesky) -> FakeBluesky:
        """A second server, the PDS that ``entryway``'s DID documents name: the same
        accounts, sessions, blobs and records (behind the same lock), its own requests
        and faults. Start it, then set ``entryway.pds_endpoint = pds.url``."""
        pds = cls()
        pds._lock = entryway._lock
        pds.accounts = entryway.accounts
        pds.tokens = entryway.tokens
        pds.blobs = entryway.blobs
        pds.records = entryway.records
        pds._names_itself = True
        return pds

    def add_account(self, handle: str, password: str, did: str | None = None) -> Account:
        did = did or f"did:plc:{hashlib.sha256(handle.encode()).hexdigest()[:24]}"
        acc = Account(did=did, handle=handle, password=password)
        self.accounts[did] = acc
        return acc

    def set_counts(self, uri: str, **counts: int) -> None:
        """The post at ``uri`` exists (for getPosts) with these counts (the rest 0)."""
        with self._lock:
            self.counts[uri] = {k: int(v) for k, v in counts.items()}

    def posts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r["value"] for r in self.records.values()]

    def expire_access_tokens(self) -> None:
        with self._lock:
            for t in self.tokens.values():
                if t.kind == "access":
                    t.expires_at = 0.0

    def expire_refresh_tokens(self) -> None:
        with self._lock:
            for t in self.tokens.values():
                if t.kind == "refresh":
                    t.expires_at = 0.0

    # ------------------------------------------------------------ serving
    def handle(self, req: Request) -> Reply:
        reply = self._route(req)
        self._served += 1
        reset = int(time.time()) + self.rate_window
        reply.headers.setdefault("RateLimit-Limit", str(self.rate_limit))
        reply.headers.setdefault("RateLimit-Remaining", str(max(0, self.rate_limit - self._served)))
        reply.headers.setdefault("RateLimit-Reset", str(reset))
        reply.headers.setdefault("RateLimit-Policy", f"{self.rate_limit};w={self.rate_window}")
        return reply

    def _route(self, req: Request) -> Reply:
        routes = {
            "POST /xrpc/com.atproto.server.createSession": self._create_session,
            "POST /xrpc/com.atproto.server.refreshSession": self._refresh_session,
            "GET /xrpc/com.atproto.server.getSession": self._get_session,
            "POST /xrpc/com.atproto.repo.uploadBlob": self._upload_blob,
            "POST /xrpc/com.atproto.repo.createRecord": self._create_record,
            "GET /xrpc/com.atproto.repo.getRecord": self._get_record,
            "GET /xrpc/com.atproto.identity.resolveHandle": self._resolve_handle,
            "GET /xrpc/app.bsky.feed.getPosts": self._get_posts,
        }
        handler = routes.get(req.route)
        if self.role == "entryway" and ".server." not in req.path:
            return _error(400, "InvalidRequest", f"the entryway does not serve {req.path} here")
        if handler is None:
            return _error(501, "MethodNotImplemented", f"Method Not Implemented: {req.path}")
        return handler(req)

    def _issue(self, acc: Account) -> dict[str, Any]:
        now = time.time()
        access = Token(
            jwt(
                {"scope": "com.atproto.appPass", "sub": acc.did, "exp": int(now + self.access_ttl)}
            ),
            acc.did,
            "access",
            now + self.access_ttl,
        )
        refresh = Token(
            jwt({"scope": "com.atproto.refresh", "sub": acc.did, "jti": secrets.token_hex(8)}),
            acc.did,
            "refresh",
            now + self.refresh_ttl,
        )
        self.tokens[access.value] = access
        self.tokens[refresh.value] = refresh
        session: dict[str, Any] = {
            "did": acc.did,
            "handle": acc.handle,
            "accessJwt": access.value,
            "refreshJwt": refresh.value,
            "active": acc.active,
        }
        if self.send_did_doc:
            session["didDoc"] = {
                "@context": ["https://www.w3.org/ns/did/v1"],
                "id": acc.did,
                "alsoKnownAs": [f"at://{acc.handle}"],
                "service": [
                    {
                        "id": "#atproto_pds",
                        "type": "AtprotoPersonalDataServer",
                        "serviceEndpoint": self.url if self._names_itself else self.pds_endpoint,
                    }
                ],
            }
        return session

    def _create_session(self, req: Request) -> Reply:
        try:
            body = req.json()
        except ValueError:
            return _error(400, "InvalidRequest", "Request body must be JSON")
        ident = str(body.get("identifier") or "").lower()
        acc = next(
            (a for a in self.accounts.values() if ident in (a.handle.lower(), a.did)),
            None,
        )
        if acc is None or body.get("password") != acc.password:
            return _error(401, "AuthenticationRequired", "Invalid identifier or password")
        now = time.time()
        acc.sessions = [t for t in acc.sessions if now - t < 300] + [now]
        if len(acc.sessions) > self.session_limit:
            return Reply(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {"RateLimit-Reset": str(int(now + 300)), "RateLimit-Remaining": "0"},
            )
        return Reply(200, self._issue(acc))

    def _token(self, req: Request, kind: str) -> Token | Reply:
        value = bearer(req)
        if not value:
            return _error(401, "AuthMissing", "Authentication Required")
        tok = self.tokens.get(value)
        if tok is None or tok.kind != kind or tok.spent:
            return _error(400, "InvalidToken", "Token could not be verified")
        if time.time() >= tok.expires_at:
            return _error(400, "ExpiredToken", "Token has expired")
        return tok

    def _refresh_session(self, req: Request) -> Reply:
        if req.body:
            return _error(400, "InvalidRequest", "refreshSession takes no body")
        tok = self._token(req, "refresh")
        if isinstance(tok, Reply):
            return tok
        tok.spent = True  # rotates
        return Reply(200, self._issue(self.accounts[tok.did]))

    def _auth(self, req: Request) -> Account | Reply:
        tok = self._token(req, "access")
        if isinstance(tok, Reply):
            return tok
        return self.accounts[tok.did]

    def _get_session(self, req: Request) -> Reply:
        acc = self._auth(req)
        if isinstance(acc, Reply):
            return acc
        return Reply(200, {"did": acc.did, "handle": acc.handle, "active": acc.active})

    def _upload_blob(self, req: Request) -> Reply:
        acc = self._auth(req)
        if isinstance(acc, Reply):
            return acc
        mime = (req.header("content-type") or "").split(";")[0].strip()
        if not mime:
            return _error(400, "InvalidRequest", "Content-Type is required")
        if len(req.body) > 52_428_800:
            return _error(413, "PayloadTooLarge", "request entity too large")
        if not req.body:
            return _error(400, "InvalidRequest", "empty blob")
        cid = "bafkrei" + hashlib.sha256(req.body).hexdigest()[:52]
        self.blobs[cid] = Blob(cid, acc.did, mime, len(req.body), time.time())
        return Reply(
            200,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": cid},
                    "mimeType": mime,
                    "size": len(req.body),
                }
            },
        )

    def _create_record(self, req: Request) -> Reply:
        acc = self._auth(req)
        if isinstance(acc, Reply):
            return acc
        try:
            body = req.json()
        except ValueError:
            return _error(400, "InvalidRequest", "Request body must be JSON")
        if body.get("repo") not in (acc.did, acc.handle):
            return _error(400, "InvalidRequest", "Invalid repo")
        if body.get("collection") != POST:
            return _error(400, "InvalidRequest", "this fake only takes posts")
        rkey = body.get("rkey")
        if rkey is None:
            rkey = new_tid(datetime.now(UTC))
        if not isinstance(rkey, str) or not TID_RE.match(rkey):
            return _error(400, "InvalidRequest", "Invalid record key: must be a TID")
        problem = self._check_post(acc, body.get("record"))
        if problem:
            return _error(400, "InvalidRequest", problem)
        if (acc.did, rkey) in self.records:
            if self.collision == "internal":
                return _error(500, "InternalServerError", "Internal Server Error")
            return _error(400, "InvalidRequest", "RecordAlreadyExists: a record exists at that key")
        record = body["record"]
        embed = record.get("embed") or {}
        used = [img["image"] for img in embed.get("images") or []]
        used += [embed["external"]["thumb"]] if "thumb" in embed.get("external", {}) else []
        for blob in used:
            self.blobs[blob["ref"]["$link"]].used = True
        uri = f"at://{acc.did}/{POST}/{rkey}"
        cid = (
            "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]
        )
        self.records[(acc.did, rkey)] = {"uri": uri, "cid": cid, "value": record}
        return Reply(
            200,
            {
                "uri": uri,
                "cid": cid,
                "commit": {"cid": cid, "rev": rkey},
                "validationStatus": "valid",
            },
        )

    def _check_reply(self, reply: Any) -> str | None:
        """``reply: {root, parent}``, each a strong ref (uri + cid) to a stored post."""
        if not isinstance(reply, dict):
            return "Record/reply must be an object"
        for name in ("root", "parent"):
            ref = reply.get(name)
            if not isinstance(ref, dict) or not all(
                isinstance(ref.get(k), str) and ref[k] for k in ("uri", "cid")
            ):
                return f'Record/reply/{name} must be a strong ref with "uri" and "cid"'
            stored = next((r for r in self.records.values() if r["uri"] == ref["uri"]), None)
            if stored is None:
                return f"Record/reply/{name}: no post at {ref['uri']}"
            if stored["cid"] != ref["cid"]:
                return f"Record/reply/{name}: cid does not match the post at {ref['uri']}"
        return None

    def thread_of(self, did: str) -> list[tuple[str, str | None, str | None]]:
        """(uri, root uri, parent uri) of the account's posts, in key order."""
        out = []
        for (owner, _rkey), rec in sorted(self.records.items()):
            if owner != did:
                continue
            reply = rec["value"].get("reply") or {}
            out.append(
                (
                    rec["uri"],
                    (reply.get("root") or {}).get("uri"),
                    (reply.get("parent") or {}).get("uri"),
                )
            )
        return out

    def _check_post(self, acc: Account, record: Any) -> str | None:
        if not isinstance(record, dict) or record.get("$type") != POST:
            return "Invalid app.bsky.feed.post record: $type"
        text = record.get("text")
        if not isinstance(text, str):
            return "Record/text must be a string"
        if not isinstance(record.get("createdAt"), str) or "T" not in record["createdAt"]:
            return "Record/createdAt must be a valid datetime"
        if graphemes(text) > 300:
            return "Record/text must not be longer than 300 graphemes"
        raw = text.encode("utf-8")
        if len(raw) > 3000:
            return "Record/text must not be longer than 3000 characters"
        for n, facet in enumerate(record.get("facets") or []):
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            if not (
                isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw)
            ):
                return f"Record/facets/{n}/index is not a byte range inside the text"
            try:
                raw[start:end].decode("utf-8")
            except UnicodeDecodeError:
                return f"Record/facets/{n}/index cuts a character in two"
            features = facet.get("features") or []
            if not features:
                return f"Record/facets/{n}/features must not be empty"
            for feature in features:
                key = FEATURES.get(feature.get("$type"))
                if key is None or not isinstance(feature.get(key), str) or not feature[key]:
                    return f"Record/facets/{n}/features is invalid"
        if "reply" in record:
            problem = self._check_reply(record["reply"])
            if problem:
                return problem
        embed = record.get("embed")
        if embed is None:
            return None
        if not isinstance(embed, dict):
            return "Record/embed must be an object"
        if embed.get("$type") == "app.bsky.embed.external":
            return self._check_external(acc, embed.get("external"))
        if embed.get("$type") != "app.bsky.embed.images":
            return "this fake takes only app.bsky.embed.images and app.bsky.embed.external embeds"
        images = embed.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= 4:
            return "Record/embed/images must have between 1 and 4 items"
        for n, img in enumerate(images):
            if not isinstance(img.get("alt"), str):
                return f'Record/embed/images/{n} must have the property "alt"'
            problem = self._check_blob(acc, img.get("image"), f"Record/embed/images/{n}/image")
            if problem:
                return problem
            ratio = img.get("aspectRatio")
            if ratio is not None and not (
                isinstance(ratio.get("width"), int)
                and isinstance(ratio.get("height"), int)
                and ratio["width"] > 0
                and ratio["height"] > 0
            ):
                return f"Record/embed/images/{n}/aspectRatio is invalid"
        return None

    def _check_external(self, acc: Account, external: Any) -> str | None:
        """``app.bsky.embed.external#external``: uri (a URI), title and description
        (strings, required, "" allowed), an optional ``thumb`` image blob."""
        if not isinstance(external, dict):
            return 'Record/embed must have the property "external"'
        for key in ("uri", "title", "description"):
            if not isinstance(external.get(key), str):
                return f'Record/embed/external must have the property "{key}"'
        if not re.match(r"^[a-z][a-z0-9+.-]*:\S+$", external["uri"], re.IGNORECASE):
            return "Record/embed/external/uri must be a uri"
        thumb = external.get("thumb")
        if thumb is not None:
            return self._check_blob(acc, thumb, "Record/embed/external/thumb")
        return None

    def _check_blob(self, acc: Account, blob: Any, where: str) -> str | None:
        """A blob ref to an image this account uploaded, at most 1,000,000 bytes."""
        if not isinstance(blob, dict) or blob.get("$type") != "blob":
            return f"{where} should be a blob ref"
        ref = (blob.get("ref") or {}).get("$link")
        known = self.blobs.get(ref)
        if known is None or known.did != acc.did:
            return f"Could not find blob: {ref}"
        if not known.used and time.time() - known.uploaded_at > self.blob_ttl:
            return f"Could not find blob: {ref}"
        if known.size > 1_000_000:
            return f"{where} file too large. 1000000 bytes maximum"
        if not known.mime.startswith("image/"):
            return f"{where} has the wrong mimetype"
        return None

    def _get_record(self, req: Request) -> Reply:
        q = {k: v[0] for k, v in req.query.items()}
        repo = q.get("repo", "")
        did = next((a.did for a in self.accounts.values() if repo in (a.did, a.handle)), repo)
        found = self.records.get((did, q.get("rkey", "")))
        if q.get("collection") != POST or found is None:
            return _error(
                400,
                "RecordNotFound",
                f"Could not locate record: at://{repo}/{q.get('collection')}/{q.get('rkey')}",
            )
        return Reply(200, found)

    def _get_posts(self, req: Request) -> Reply:
        acc = self._auth(req)
        if isinstance(acc, Reply):
            return acc
        now = time.time()
        self._reads = [t for t in self._reads if now - t < self.rate_window]
        if len(self._reads) >= self.read_limit:
            reset = int(self._reads[0] + self.rate_window)
            return Reply(
                429,
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                {"RateLimit-Remaining": "0", "RateLimit-Reset": str(reset)},
            )
        self._reads.append(now)
        uris = req.query.get("uris", [])
        if not 1 <= len(uris) <= 25:
            return _error(400, "InvalidRequest", "uris must have between 1 and 25 items")
        for uri in uris:
            if not uri.startswith("at://"):
                return _error(400, "InvalidRequest", f"uris must be AT-URIs: {uri}")
        stored = {r["uri"]: r for r in self.records.values()}
        views = []
        for uri in uris:
            if uri not in stored and uri not in self.counts:
                continue  # not found: getPosts leaves it out
            counts = self.counts.get(uri, {})
            record = stored.get(uri, {})
            views.append(
                {
                    "uri": uri,
                    "cid": record.get("cid", "bafyfake"),
                    "author": {"did": uri.split("/")[2], "handle": "someone.test"},
                    "record": record.get("value", {}),
                    "indexedAt": "2026-03-02T12:00:00.000Z",
                    **{
                        name: counts.get(name, 0)
                        for name in ("likeCount", "repostCount", "replyCount", "quoteCount")
                    },
                }
            )
        return Reply(200, {"posts": views})

    def _resolve_handle(self, req: Request) -> Reply:
        handle = (req.query.get("handle") or [""])[0].lower()
        for acc in self.accounts.values():
            if acc.handle.lower() == handle:
                return Reply(200, {"did": acc.did})
        return _error(400, "InvalidRequest", "Unable to resolve handle")
