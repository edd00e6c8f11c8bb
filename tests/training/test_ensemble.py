"""The ensemble kind: calibrated averages of its members, one folder of members and JSON, no pickle."""

from __future__ import annotations

import json
import pickletools
from pathlib import Path

import numpy as np
import pytest
import yaml

from policytag.cli import main
from policytag.core.taxonomy import Taxonomy
from policytag.training.config import TrainConfig
from policytag.training.ensemble import Calibration, EnsemblePredictor, fit_calibration
from policytag.training.predictor import load_predictor
from policytag.training.tfidf import TfidfPredictor
from policytag.training.train import TrainResult, train
from tests.support.paths import ROOT
from tests.support.serving import make_client
from tests.support.training import tiny_config

SENTENCES = ["深入开展法律援助工作。", "加强人民调解组织建设，化解矛盾纠纷。", "全面推行行政执法公示制度。"]
GOLD = str(ROOT / "labels" / "gold.jsonl")


def _member_yaml(tmp: Path, name: str, **fields: object) -> str:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"kind": "tfidf", **fields}), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def two_tfidf(tmp_path_factory: pytest.TempPathFactory) -> TrainResult:
    """An ensemble of two TF-IDF members with different n-grams and C (seconds)."""
    tmp = tmp_path_factory.mktemp("ensemble")
    members = [_member_yaml(tmp, "char2", tfidf_ngram_max=2, tfidf_c=1.0), _member_yaml(tmp, "char3")]
    cfg = TrainConfig(
        data=GOLD,
        output_dir=str(tmp / "ens"),
        kind="ensemble",
        ensemble_members=members,
        ensemble_weights=[1.0, 3.0],
        validation_docs=20,
        limit=1500,
    )
    return train(cfg, progress=False)


def _is_pickle(data: bytes) -> bool:
    """Whether ``data`` parses as a pickle (or is a zip, as torch.save writes)."""
    if data.startswith(b"PK\x03\x04"):
        return True
    try:
        ops = list(pickletools.genops(data[:4096]))
    except Exception:
        return False
    return bool(ops) and ops[0][0].name == "PROTO"


def test_the_folder_holds_members_and_json_and_nothing_pickled(two_tfidf: TrainResult) -> None:
    folder = two_tfidf.folder
    files = [p for p in folder.rglob("*") if p.is_file()]
    names = {p.relative_to(folder).as_posix() for p in files}
    assert {"ensemble.json", "policytag.json", "thresholds.json", "README.md"} <= names
    assert {"members/char2/model.safetensors", "members/char3/model.safetensors"} <= names
    assert not [p for p in files if p.suffix in (".pkl", ".bin", ".pt", ".pickle", ".joblib")]
    assert not [p for p in files if _is_pickle(p.read_bytes())]
    weights = [p for p in files if p.suffix not in (".json", ".md", ".png", ".txt")]
    assert weights and all(p.suffix == ".safetensors" for p in weights)
    assert json.loads((folder / "policytag.json").read_text(encoding="utf-8"))["kind"] == "ensemble"


def test_probabilities_are_the_calibrated_weighted_mean(two_tfidf: TrainResult, taxonomy: Taxonomy) -> None:
    folder = two_tfidf.folder
    spec = json.loads((folder / "ensemble.json").read_text(encoding="utf-8"))
    assert [m["weight"] for m in spec["members"]] == pytest.approx([0.25, 0.75])
    expected = np.zeros((len(SENTENCES), len(taxonomy)))
    for m in spec["members"]:
        raw, _ = TfidfPredictor.from_folder(
            folder / m["folder"], taxonomy=taxonomy, thresholds=np.full(len(taxonomy), 0.5), manifest={}
        ).predict_proba(SENTENCES)
        cal = m["calibration"]
        assert cal["method"] == "platt" and "fitted" in cal["how"]
        z = np.log(np.clip(raw, 1e-6, 1 - 1e-6)) - np.log1p(-np.clip(raw, 1e-6, 1 - 1e-6))
        expected += m["weight"] / (1 + np.exp(-(np.array(cal["a"]) * z + np.array(cal["b"]))))
    predictor = load_predictor(folder)
    assert isinstance(predictor, EnsemblePredictor)
    probs, truncated = predictor.predict_proba(SENTENCES)
    np.testing.assert_allclose(probs, expected, rtol=1e-6, atol=1e-9)
    assert truncated == [False] * len(SENTENCES)
    scores = predictor.predict(SENTENCES)[0].scores
    assert scores == pytest.approx(dict(zip(taxonomy.ids, probs[0], strict=True)), abs=1e-6)


def test_the_card_names_the_members(two_tfidf: TrainResult) -> None:
    card = (two_tfidf.folder / "README.md").read_text(encoding="utf-8")
    assert "policytag ensemble model" in card
    assert "Member `char2` (tfidf, weight 0.25)" in card and "Member `char3` (tfidf, weight 0.75)" in card
    assert "character 1–2-gram" in card and "character 1–3-gram" in card


def test_policytag_predict_and_the_server_use_it(
    two_tfidf: TrainResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in SENTENCES), encoding="utf-8")
    assert main(["predict", "--model", str(two_tfidf.folder), str(src)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = load_predictor(two_tfidf.folder).predict(SENTENCES)
    assert [r["labels"] for r in rows] == [p.labels for p in expected]
    with make_client(two_tfidf.folder) as client:
        body = client.post("/v1/classify", json={"sentences": SENTENCES}).json()
        model = client.get("/v1/model").json()
    assert [r["labels"] for r in body["results"]] == [p.labels for p in expected]
    assert model["kind"] == "ensemble" and model["numerics"]["used"] == "fp32"


def test_an_unknown_member_kind_is_refused(two_tfidf: TrainResult, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"ensemble_members\[1\]: 'svm' is neither a model kind \(bert, "):
        TrainConfig(kind="ensemble", ensemble_members=["tfidf", "svm"])
    with pytest.raises(ValueError, match="cannot be a member of an ensemble"):
        TrainConfig(kind="ensemble", ensemble_members=["ensemble"])
    with pytest.raises(ValueError, match=r"ensemble_weights must be one number >= 0 per member \(2\)"):
        TrainConfig(kind="ensemble", ensemble_members=["tfidf", "bert"], ensemble_weights=[1.0])
    # A folder whose ensemble.json names an unknown kind: the error names the file and the field.
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in two_tfidf.folder.iterdir():
        if p.is_file():
            (broken / p.name).write_bytes(p.read_bytes())
    spec = json.loads((broken / "ensemble.json").read_text(encoding="utf-8"))
    spec["members"][0]["kind"] = "svm"
    (broken / "ensemble.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ValueError, match=r"ensemble\.json: members\[0\]\.kind must be one of .*got 'svm'"):
        load_predictor(broken)


def test_duplicate_member_names_are_refused(tmp_path: Path) -> None:
    cfg = TrainConfig(data=GOLD, output_dir=str(tmp_path / "e"), kind="ensemble", ensemble_members=["tfidf", "tfidf"])
    with pytest.raises(ValueError, match="two members are named 'tfidf'"):
        train(cfg, progress=False)


def test_out_of_fold_thresholds_tune_on_the_averaged_scores(tmp_path: Path) -> None:
    """With ``thresholds: oof`` the driver trains the whole ensemble on each inner fold, as for any kind."""
    members = [_member_yaml(tmp_path, "a", tfidf_ngram_max=2), _member_yaml(tmp_path, "b")]
    cfg = TrainConfig(
        data=GOLD,
        output_dir=str(tmp_path / "oof"),
        kind="ensemble",
        ensemble_members=members,
        ensemble_calibration="isotonic",
        thresholds="oof",
        oof_folds=2,
        validation_docs=20,
        limit=800,
    )
    result = train(cfg, progress=False)
    record = json.loads((result.folder / "thresholds.json").read_text(encoding="utf-8"))
    assert record["tuned_on"].startswith("out-of-fold probabilities of the 800 training sentences")
    assert "tuned" in record["how"].values()
    spec = json.loads((result.folder / "ensemble.json").read_text(encoding="utf-8"))
    assert {m["calibration"]["method"] for m in spec["members"]} == {"isotonic"}


def test_platt_recovers_a_known_curve_and_isotonic_is_monotone() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 4000)
    truth = 1 / (1 + np.exp(-(0.5 * z - 1.0)))  # the member is overconfident and biased upwards
    y = (rng.random(4000) < truth).astype(int)[:, None]
    raw = (1 / (1 + np.exp(-z)))[:, None]
    platt = fit_calibration(raw, y, method="platt")
    assert platt.a[0] == pytest.approx(0.5, abs=0.08) and platt.b[0] == pytest.approx(-1.0, abs=0.12)
    iso = fit_calibration(raw, y, method="isotonic")
    out = iso.apply(np.linspace(0, 1, 50)[:, None])[:, 0]
    assert np.all(np.diff(out) >= 0) and out.min() >= 0 and out.max() <= 1
    again = Calibration.from_json(json.loads(json.dumps(iso.to_json())), n_labels=1, where="e.json")
    np.testing.assert_allclose(again.apply(raw), iso.apply(raw))
    few = fit_calibration(raw[:10], np.array([[1]] + [[0]] * 9), method="platt")
    assert few.how == ("identity (too few held-out positives)",) and few.a == (1.0,)


def test_a_tfidf_and_tiny_bert_ensemble_passes_numerics_to_bert(tmp_path: Path) -> None:
    cfg = tiny_config(
        tmp_path, kind="ensemble", output_dir=str(tmp_path / "tb"), epochs=1.0, limit=300, validation_docs=5
    )
    folder = train(cfg, progress=False).folder
    assert (folder / "members" / "bert" / "model.safetensors").is_file()
    assert (folder / "members" / "bert" / "precision_guard.json").is_file()
    assert not list(folder.rglob("*.bin")) and not list(folder.rglob("*.pkl"))
    predictor = load_predictor(folder, numerics="auto")
    info = predictor.numerics_info
    assert info["requested"] == "auto"
    assert info["members"]["bert"]["requested"] == "auto" and info["members"]["tfidf"]["used"] == "fp32"
    fp32 = load_predictor(folder, numerics="fp32")
    assert isinstance(fp32, EnsemblePredictor)
    per_member, _ = fp32.member_probabilities(SENTENCES)
    mean = sum(m.weight * per_member[m.name] for m in fp32.members)
    np.testing.assert_allclose(fp32.predict_proba(SENTENCES)[0], mean)
    assert [m.name for m in fp32.members] == ["tfidf", "bert"]
    assert "Member `bert` (bert, weight 0.50)" in (folder / "README.md").read_text(encoding="utf-8")
