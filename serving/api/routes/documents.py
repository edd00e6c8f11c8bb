"""``POST /v1/documents`` (JSON text) and ``POST /v1/documents/file`` (an upload): tag every sentence of a document."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, UploadFile

from policytag.core.splitter import split_sentences
from policytag.labels.documents import TEXT_SUFFIXES, DocumentError, decode_document
from policytag.serving.api.deps import ReadyState
from policytag.serving.api.routes.classify import ERRORS, classify_texts
from policytag.serving.api.schemas import DocumentRequest, DocumentResponse, DocumentSummary, ModelRef, TaggedSentence

router = APIRouter(tags=["documents"])


async def tag_document(state: ReadyState, text: str, doc_id: str | None, *, field: str) -> DocumentResponse:
    pieces = split_sentences(text)
    if not pieces:
        raise HTTPException(status_code=422, detail={"message": "the document has no sentences", "field": field})
    results = await classify_texts(state, [p.text for p in pieces], field=field)
    sentences = [
        TaggedSentence(
            index=i, start=p.start, end=p.end, text=p.text, labels=r.labels, scores=r.scores, truncated=r.truncated
        )
        for i, (p, r) in enumerate(zip(pieces, results, strict=True))
    ]
    counts = Counter(label for s in sentences for label in s.labels)
    ordered = {i: counts[i] for i in state.predictor.taxonomy.ids if counts[i]}
    return DocumentResponse(
        id=doc_id,
        model=ModelRef(name=state.predictor.name, version=state.predictor.version),
        sentences=sentences,
        summary=DocumentSummary(counts=ordered, share={k: round(v / len(sentences), 4) for k, v in ordered.items()}),
    )


@router.post("/v1/documents", response_model=DocumentResponse, responses=ERRORS, summary="Tag a document")
async def documents(body: DocumentRequest, state: ReadyState) -> DocumentResponse:
    """Split the text with the kit's sentence splitter and tag every sentence; offsets refer to the given text."""
    return await tag_document(state, body.text, body.id, field="text")


@router.post(
    "/v1/documents/file",
    response_model=DocumentResponse,
    responses={**ERRORS, 415: {"description": "unsupported file type"}},
    summary="Tag an uploaded document",
)
async def documents_file(
    state: ReadyState,
    file: Annotated[UploadFile, File(description="a .txt, .md or .html file, UTF-8 or GB18030")],
    id: Annotated[str | None, Form(max_length=200)] = None,
) -> DocumentResponse:
    """Upload a report; HTML is stripped of markup; offsets refer to the decoded (and for HTML, extracted) text."""
    name = file.filename or "upload"
    if not name.lower().endswith(TEXT_SUFFIXES):
        raise HTTPException(
            status_code=415,
            detail={"message": f"{name}: expected one of {', '.join(TEXT_SUFFIXES)}", "field": "file"},
        )
    data = await file.read()
    try:
        doc = decode_document(data, name=name)
    except DocumentError as e:
        raise HTTPException(status_code=422, detail={"message": str(e), "field": "file"}) from None
    if not doc.text.strip():
        raise HTTPException(status_code=422, detail={"message": f"{name} is empty", "field": "file"})
    return await tag_document(state, doc.text, id or doc.doc, field="file")
