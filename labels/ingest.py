"""From harvested pages to seed documents, their manifest and the unlabelled corpus.

:func:`ingest` runs the steps in order, each one reported:

1. **exclusions** (:mod:`policytag.labels.exclusions`): a listed URL, a listed office within a year, or the
   fingerprint of a listed page's stored copy; such a page is dropped before anything is written;
2. **stubs**: fewer than :data:`MIN_CHARS` letters and digits;
3. **duplicates** (:mod:`policytag.labels.dedup`): the same URL, or a near-duplicate text (MinHash, Jaccard ≥
   0.5) of a seed or of a page kept earlier; government (``.gov.cn``) copies are preferred;
4. **selection** of the documents to label, for diversity and for the categories the gold set is
   short of: localities take turns, at most ``per_locality`` documents each, and within a round the
   page whose sentences' words (:data:`TOPIC_PATTERNS`) fill the largest remaining need of a category
   (up to :data:`CATEGORY_GOAL` positives) goes first, with annual reports and work summaries
   weighted up while they are under :data:`REPORT_SHARE` of the documents, until
   ``target_sentences`` new labellable sentences are chosen.

Every kept page goes to the unlabelled corpus (:mod:`policytag.labels.unlabelled`); the selected ones are
also written to ``seeds/`` with a manifest row. Documents already in the manifest stay selected,
so a second ingest with more pages only adds.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from policytag.core.splitter import split_sentences
from policytag.labels.corpus import cut_fragment
from policytag.labels.dedup import near_duplicate_groups, normalise, sentence_key
from policytag.labels.exclusions import ExcludedSource, Fingerprints, normalise_url, page_exclusion
from policytag.labels.harvest import HarvestedPage
from policytag.labels.manifest import ManifestRow

__all__ = ["MIN_CHARS", "IngestResult", "Rejected", "deficit_score", "ingest", "labellable_keys", "topic_hits"]

MIN_CHARS = 120
# Words that suggest a sentence's category: a rough count of what a page would add to the gold set,
# used only to order the selection (the labels themselves come from the annotators).
TOPIC_PATTERNS = {
    "enforcement": re.compile("行政执法|执法监督|执法人员|处罚|涉企检查|综合查一次|包容审慎"),
    "mediation": re.compile("调解|矛盾纠纷|信访|枫桥"),
    "legal_aid": re.compile("法律援助|法援"),
    "business_environment": re.compile("营商环境|涉企|民营企业|市场主体|惠企"),
    "reconsideration_litigation": re.compile("行政复议|应诉|行政诉讼|行政争议"),
    "legislation": re.compile("立法|规范性文件|地方性法规|规章|备案审查"),
    "decision_making": re.compile("重大行政决策|合法性审查|法律顾问|公职律师"),
    "public_legal_services": re.compile("公共法律服务|律师|公证|司法鉴定|12348|仲裁|司法所"),
    "legal_publicity": re.compile("普法|法治宣传|学法|法治文化|宪法|民法典"),
    "government_services": re.compile("政务服务|放管服|证明事项|告知承诺|一网通办|审批|权责清单|一件事|政务公开"),
    "community_corrections": re.compile("社区矫正|矫正对象|安置帮教|刑满释放|监狱|戒毒"),
    "oversight_accountability": re.compile("督察|述法|法治考核|第一责任人|示范创建|依法治[省市县区]"),
}
# Each category is wanted up to this many positive sentences; beyond it a page's words for it add nothing.
CATEGORY_GOAL = 200
# Annual reports and work summaries are what the kit is mostly used on: while they are under this share of
# the documents, a report's score counts REPORT_BONUS times.
REPORT_TYPES = ("annual_report", "work_summary")
REPORT_SHARE = 0.45
REPORT_BONUS = 1.5


@dataclass(frozen=True, slots=True)
class Rejected:
    url: str
    origin: str
    reason: str


@dataclass
class IngestResult:
    """What an ingest kept, selected and dropped, and why."""

    kept: list[HarvestedPage] = field(default_factory=list)
    selected: list[ManifestRow] = field(default_factory=list)
    selected_pages: list[HarvestedPage] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates_of: dict[str, list[str]] = field(default_factory=dict)  # kept url -> urls of its dropped copies

    def counts(self) -> dict[str, int]:
        reasons: dict[str, int] = defaultdict(int)
        for r in self.rejected:
            reasons[r.reason.split(":", 1)[0]] += 1
        return {"kept": len(self.kept), "selected": len(self.selected), **dict(sorted(reasons.items()))}


def topic_hits(text: str) -> Counter[str]:
    """For each category, how many sentences of ``text`` have one of its words."""
    hits: Counter[str] = Counter()
    for piece in split_sentences(text):
        hits.update(cat for cat, pattern in TOPIC_PATTERNS.items() if pattern.search(piece.text))
    return hits


def deficit_score(hits: Counter[str], have: Counter[str]) -> float:
    """What a page adds where the gold set is short: hits weighted by each category's remaining need."""
    return sum(n * max(0, CATEGORY_GOAL - have[cat]) / CATEGORY_GOAL for cat, n in hits.items())


def labellable_keys(text: str, *, truncated: bool) -> list[str]:
    """Sentence keys of ``text`` that would be labelled: the cut-off last fragment of a truncated page is not."""
    pieces = split_sentences(text)
    if truncated and pieces and cut_fragment(pieces[-1].text):
        pieces = pieces[:-1]
    return [sentence_key(p.text) for p in pieces]


def _is_gov(url: str) -> bool:
    return normalise_url(url).split("/", 1)[0].endswith(".gov.cn")


def _filter(
    pages: Sequence[HarvestedPage],
    *,
    excluded: Sequence[ExcludedSource],
    fingerprints: Fingerprints,
    result: IngestResult,
) -> list[HarvestedPage]:
    out = []
    for p in pages:
        reason = page_exclusion(excluded, fingerprints, p.facts(), p.text)
        if reason:
            result.rejected.append(Rejected(p.url, p.origin, f"excluded: {reason}"))
        elif len(normalise(p.text)) < MIN_CHARS:
            result.rejected.append(Rejected(p.url, p.origin, f"stub: under {MIN_CHARS} letters and digits"))
        else:
            out.append(p)
    return out


def _deduplicate(
    pages: Sequence[HarvestedPage], seed_texts: dict[str, str], seed_urls: set[str], result: IngestResult
) -> list[HarvestedPage]:
    # Preferred copies first: the seeds themselves (seed files not harvested, then harvested pages already
    # chosen as seeds), then government sites, then the rest, in harvest order.
    ordered = sorted(
        enumerate(pages), key=lambda ip: (normalise_url(ip[1].url) not in seed_urls, not _is_gov(ip[1].url), ip[0])
    )
    by_key: dict[str, HarvestedPage] = {}
    texts: dict[str, str] = {f"seed:{k}": t for k, t in seed_texts.items()}
    seen_urls: dict[str, str] = {}
    for i, p in ordered:
        url = normalise_url(p.url)
        if url in seen_urls:
            result.rejected.append(Rejected(p.url, p.origin, f"duplicate: same URL as {seen_urls[url]}"))
            continue
        seen_urls[url] = p.origin
        key = f"page:{i}"
        by_key[key] = p
        texts[key] = p.text
    kept = []
    for group in near_duplicate_groups(texts):
        head = group[0]
        for other in group[1:]:
            if other in by_key:
                dup = by_key[other]
                what = head.removeprefix("seed:") if head.startswith("seed:") else by_key[head].url
                result.rejected.append(Rejected(dup.url, dup.origin, f"duplicate: near-duplicate of {what}"))
                result.duplicates_of.setdefault(what, []).append(dup.url)
        if head in by_key:
            kept.append(by_key[head])
    kept.sort(key=lambda p: p.origin)
    return kept


def _select(
    pages: Sequence[HarvestedPage],
    *,
    already: set[str],
    taken_keys: set[str],
    locality_docs: dict[str, int],
    have: Counter[str],
    reports: list[int],
    target_sentences: int,
    per_locality: int,
) -> list[HarvestedPage]:
    """Choose pages in rounds (see the module docstring); ``reports`` is [report documents, documents] so far."""
    by_locality: dict[str, list[HarvestedPage]] = defaultdict(list)
    for p in pages:
        if normalise_url(p.url) not in already:
            by_locality[f"{p.province}/{p.locality}"].append(p)
    hits = {p.origin: topic_hits(p.text) for q in by_locality.values() for p in q}

    def score(page: HarvestedPage) -> tuple[float, str]:
        value = deficit_score(hits[page.origin], have)
        if page.doc_type in REPORT_TYPES and reports[0] < REPORT_SHARE * max(reports[1], 1):
            value *= REPORT_BONUS
        return (-value, page.origin)

    chosen: list[HarvestedPage] = []
    new_sentences = 0
    for _ in range(per_locality):
        # Each round, every locality with room offers the page it has that the gold set needs most; the
        # neediest offer is taken first, and the needs are updated after every page taken.
        offers = {
            loc: min(q, key=score) for loc, q in sorted(by_locality.items()) if q and locality_docs[loc] < per_locality
        }
        if not offers:
            break
        while offers and new_sentences < target_sentences:
            loc, page = min(offers.items(), key=lambda lp: score(lp[1]))
            del offers[loc]
            by_locality[loc].remove(page)
            keys = [k for k in labellable_keys(page.text, truncated=True) if k not in taken_keys]
            if len(keys) < 2:
                continue  # a page whose sentences are all boilerplate seen elsewhere adds nothing to label
            taken_keys.update(keys)
            new_sentences += len(keys)
            locality_docs[loc] += 1
            have.update(hits[page.origin])
            reports[0] += page.doc_type in REPORT_TYPES
            reports[1] += 1
            chosen.append(page)
    return chosen


def ingest(
    pages: Sequence[HarvestedPage],
    *,
    manifest: Sequence[ManifestRow],
    seed_texts: dict[str, str],
    excluded: Sequence[ExcludedSource],
    fingerprints: Fingerprints,
    retrieved: str,
    target_sentences: int,
    per_locality: int = 6,
    label_counts: Counter[str] | None = None,
    next_index: int,
    name_file: Callable[[int, str], str] = lambda i, sha: f"{i:03d}_{sha[:16]}.txt",
) -> IngestResult:
    """Filter, deduplicate and select ``pages``; return what to write (nothing is written here).

    ``seed_texts`` maps each existing seed file name to its text; ``manifest`` holds their rows;
    ``label_counts`` the positives per category of the gold set so far, which the selection fills up.
    """
    result = IngestResult()
    filtered = _filter(pages, excluded=excluded, fingerprints=fingerprints, result=result)
    already = {normalise_url(r.url) for r in manifest if r.url}
    harvested = {normalise_url(p.url) for p in filtered}
    # A seed that came from this harvest is represented by its page; the others (the original seeds) by their text.
    unharvested = {r.file: seed_texts[r.file] for r in manifest if not (r.url and normalise_url(r.url) in harvested)}
    result.kept = _deduplicate(filtered, unharvested, already, result)
    taken: set[str] = set()
    for row in manifest:
        taken.update(labellable_keys(seed_texts[row.file], truncated=row.truncated))
    locality_docs: dict[str, int] = defaultdict(int)
    for row in manifest:
        locality_docs[f"{row.province}/{row.locality}"] += 1
    chosen = _select(
        result.kept,
        already=already,
        taken_keys=taken,
        locality_docs=locality_docs,
        have=Counter(label_counts or {}),
        reports=[sum(r.doc_type in REPORT_TYPES for r in manifest), len(manifest)],
        target_sentences=target_sentences,
        per_locality=per_locality,
    )
    for offset, page in enumerate(chosen):
        row = ManifestRow.from_text(
            file="",
            text=page.text,
            **page.facts(),
            retrieved=retrieved,
            truncated=True,
            source="stored public web page (opening excerpt)",
        )
        result.selected.append(dataclasses.replace(row, file=name_file(next_index + offset, row.sha256)))
        result.selected_pages.append(page)
    return result
