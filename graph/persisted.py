"""Persisted documents: Apollo's automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {version: 1, sha256Hash}` without the
query; if no process has seen that hash the answer is PERSISTED_QUERY_NOT_FOUND, and the
client (Apollo's PersistedQueryLink) sends hash and query together once, which registers
it (the hash must be the query's). Later requests, by GET or POST, carry the hash alone.

Trusted documents (`graphql.trusted_documents`: a JSON manifest of hash -> document, as
graphql-codegen's persisted-documents.json writes it): those documents may be sent by
hash (`extensions.persistedQuery.sha256Hash`, or a `documentId`), and with
`graphql.only_trusted` nothing else runs: production frontends ship with the documents
they were built with, and the API runs those only (PERSISTED_QUERY_NOT_IN_LIST).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

from strawberry.http import GraphQLRequestData

from domain.config import GraphQLSettings
from domain.store import persisted_documents
from domain.store.database import Database

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class PersistedQueryError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def load_manifest(path: str) -> dict[str, str]:
    """hash -> document from a manifest; keys may read "sha256:<hash>" or "<hash>"."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: a trusted documents manifest is a JSON object")
    manifest = {}
    for key, document in raw.items():
        digest = str(key).removeprefix("sha256:").lower()
        if not _SHA256.match(digest) or not isinstance(document, str):
            raise ValueError(f"{path}: {key!r} is not a SHA-256 with its document")
        if sha256(document) != digest:
            raise ValueError(f"{path}: the document under {key!r} does not hash to it")
        manifest[digest] = document
    return manifest


@dataclass(frozen=True)
class PersistedDocuments:
    settings: GraphQLSettings
    trusted: dict[str, str]

    @classmethod
    def from_settings(cls, settings: GraphQLSettings) -> PersistedDocuments:
        manifest = load_manifest(settings.trusted_documents) if settings.trusted_documents else {}
        return cls(settings, manifest)

    def trusts(self, query: str) -> bool:
        return sha256(query) in self.trusted

    async def resolve(self, db: Database, request: GraphQLRequestData) -> GraphQLRequestData:
        """The request with its document in place of a hash; PersistedQueryError if not.
        Whether a document given as text may run (graphql.only_trusted), and whether a
        registration is kept, are decided for every transport alike (graph/request_gate.py)."""
        wanted = _requested_hash(request)
        query = request.query
        if wanted is None:
            return request
        if not _SHA256.match(wanted):
            raise PersistedQueryError("BAD_REQUEST", "The sha256Hash is not a SHA-256 in hex.")
        if wanted in self.trusted:
            if query is not None and sha256(query) != wanted:
                raise PersistedQueryError(
                    "PERSISTED_QUERY_HASH_MISMATCH", "The query does not hash to sha256Hash."
                )
            return replace(request, query=self.trusted[wanted])
        if self.settings.only_trusted:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_IN_LIST",
                "Only the trusted documents may run here; this hash is not one of them.",
            )
        if not self.settings.apq:
            raise PersistedQueryError("PERSISTED_QUERY_NOT_SUPPORTED", "PersistedQueryNotSupported")
        if query is None:
            stored = await persisted_documents.find(db, wanted)
            if stored is None:
                # The exact message Apollo's PersistedQueryLink looks for, then retries.
                raise PersistedQueryError("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound")
            return replace(request, query=stored)
        if sha256(query) != wanted:
            raise PersistedQueryError(
                "PERSISTED_QUERY_HASH_MISMATCH", "The query does not hash to sha256Hash."
            )
        return request  # a registration: kept once it has proved valid (request_gate.py)

    async def register(
        self, db: Database, extensions: object, query: str, token_id: int | None
    ) -> bool:
        """Keep a document a client registered (its hash beside its text), once it parsed,
        validated and passed the limits; whether it is kept. Too large a document, or one
        past its token's quota, runs without being remembered."""
        wanted = _registration_hash(extensions)
        if wanted is None or wanted in self.trusted or not self.settings.apq:
            return False
        if sha256(query) != wanted:
            return False
        if len(query.encode("utf-8")) > self.settings.apq_max_document_bytes:
            return False
        return await persisted_documents.remember(
            db,
            wanted,
            query,
            token_id,
            self.settings.apq_max_documents,
            self.settings.apq_documents_per_token,
        )


def _registration_hash(extensions: object) -> str | None:
    persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
    digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
    return digest.lower() if isinstance(digest, str) else None


def _requested_hash(request: GraphQLRequestData) -> str | None:
    extensions = request.extensions if isinstance(request.extensions, dict) else {}
    persisted = extensions.get("persistedQuery")
    if isinstance(persisted, dict):
        if persisted.get("version", 1) != 1:
            raise PersistedQueryError(
                "PERSISTED_QUERY_NOT_SUPPORTED", "Only persistedQuery version 1 is supported."
            )
        digest = persisted.get("sha256Hash")
        return str(digest).lower() if digest is not None else None
    document_id = extensions.get("documentId")
    if isinstance(document_id, str):
        return document_id.removeprefix("sha256:").lower()
    return None
