"""The browser target: `edgeseq web` writes a page that runs an (untrained, small) export with
onnxruntime-web, checked in a real headless Chromium through playwright; `edgeseq serve`
serves it on loopback.

Needs the [web] extra, a Chromium and onnxruntime-web's dist files (`npm ci`). Without them
these tests skip, saying what is missing, unless EDGESEQ_REQUIRE_WEB=1 (CI sets it): then
they fail, so a CI that lost its browser cannot pass by skipping.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from edgeseq import manifest as manifest_file
from edgeseq import registry
from edgeseq.errors import EdgeseqError, InputError
from edgeseq.runtimes import open_runner
from edgeseq.targets import web as target
from edgeseq.targets.web import runtime_files

from .conftest import cli_in_fresh_process, stderr_lines

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts"


def _missing() -> str | None:
    reason = target.browser_missing()
    if reason is None:
        try:
            runtime_files.find()
        except EdgeseqError as exc:
            reason = str(exc)
    return reason


@pytest.fixture(scope="module")
def ready():
    reason = _missing()
    if reason:
        if os.environ.get("EDGESEQ_REQUIRE_WEB") == "1":
            pytest.fail(f"EDGESEQ_REQUIRE_WEB=1 but {reason}")
        pytest.skip(reason)


def _copy(export: Path, into: Path) -> Path:
    """A private copy of a session export: `edgeseq web` writes web/ and the manifest's web
    section into the directory it is given, which other tests share."""
    return Path(shutil.copytree(export, into / export.name, symlinks=True))


@pytest.fixture(scope="module")
def vanilla_web(ready, untrained, tmp_path_factory):
    """vanilla (untrained) with its web pack written and checked by `edgeseq web --json`."""
    directory = _copy(untrained("vanilla"), tmp_path_factory.mktemp("web"))
    result = cli_in_fresh_process("web", directory, "--json")
    return directory, result


def test_edgeseq_web_passes_browser_parity_and_lists_its_files(vanilla_web):
    directory, result = vanilla_web
    assert result.returncode == 0, result.stderr
    assert "HEAVY:" in result.stderr and result.stderr.strip().splitlines()[-1] == "HEAVY:"  # no TensorFlow
    document = json.loads(result.stdout)
    window = document["browser"]["parity"]["results"][0]
    assert window["runtime"] == "web" and window["passed"]
    assert window["max_abs"] <= 1e-5 and window["argmax_agreement"] == 1.0
    assert document["browser"]["parity"]["samples"] == 200  # every stored input of reference.npz
    stream = document["browser"]["streaming"]["results"][0]
    assert stream["passed"] and stream["reset_exact"] and stream["long_stream"]["steps"] >= 1000
    assert stream["every_step"]["max_abs"] <= 1e-5
    for kind in ("window", "step"):
        assert document["browser"]["latency"][kind]["p50_us"] > 0
    # the pack is listed in the manifest with the sha256 of what is on disk
    listed = manifest_file.load(directory)["web"]["files"]
    names = {f["file"] for f in listed}
    assert {"web/index.html", "web/standalone.html", "web/edgeseq.js", "web/page.json", "web/model.onnx",
            "web/model.step.onnx", "web/ort/ort.wasm.bundle.min.mjs", "web/ort/ort-wasm-simd-threaded.wasm"} <= names
    for f in listed:
        assert manifest_file.sha256(directory / f["file"]) == f["sha256"]
    assert (directory / "web" / "model.onnx").read_bytes() == (directory / "model.onnx").read_bytes()
    # inside the published generation, as DIR/mcu: a re-export switches it away with its models
    assert (directory / "web").is_symlink() and os.readlink(directory / "web") == "current/web"


def test_page_answers_4_3_6_6_6_as_python_does_and_refuses_bad_input(vanilla_web, tmp_path):
    from edgeseq.targets.web.browser import BrowserPage

    directory, _ = vanilla_web
    problem = registry.problem_from_manifest(manifest_file.load(directory))
    x = problem.encode("4,3,6,6,6")
    expected = problem.decode(open_runner(directory / "model.onnx").run_array(x))[0]
    with BrowserPage(directory / "web") as browser:
        page = browser.page
        assert page.input_value("#text") == "4,3,6,6,6"  # the problem's own example, typed
        page.click("#run")
        page.wait_for_function("document.getElementById('answer').textContent !== ''")
        assert page.text_content("#answer") == str(expected)
        assert page.text_content("#error") == ""
        shot = tmp_path / "web-vanilla.png"
        page.screenshot(path=str(shot))
        # the page's encoding is the problem's, value for value
        data, dims = browser.call("() => { const e = window.edgeseq.encode('4,3,6,6,6');"
                                  " return [Array.from(e.data), e.dims]; }")
        assert np.array_equal(np.array(data, np.float32).reshape(dims), x)
        # the step model in the page, step by step: the last step's answer is the window's
        page.click("#stream-run")
        page.wait_for_function("document.getElementById('stream').textContent.includes('step 5')")
        assert page.text_content("#stream").splitlines()[-1] == f"step 5: {expected}"
        # a bad input: one line, Python's own message, no answer
        page.fill("#text", "4,3,6,6,66")
        page.click("#run")
        page.wait_for_function("document.getElementById('error').textContent !== ''")
        with pytest.raises(InputError) as python_says:
            problem.encode("4,3,6,6,66")
        assert page.text_content("#error") == str(python_says.value)
        assert page.text_content("#answer") == ""
        assert browser.errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / shot.name)
    assert shot.stat().st_size > 1000


def test_standalone_page_answers_from_file_url_without_a_server(vanilla_web):
    """index.html needs a server (browsers refuse module scripts from file://); standalone.html
    carries every file and runs from file:// itself."""
    from edgeseq.targets.web.browser import BrowserPage

    directory, _ = vanilla_web
    problem = registry.problem_from_manifest(manifest_file.load(directory))
    expected = problem.decode(open_runner(directory / "model.onnx").run_array(problem.encode("4,3,6,6,6")))[0]
    with BrowserPage(directory / "web", from_file=True) as browser:
        assert browser.page.url.startswith("file://")
        browser.page.click("#run")
        browser.page.wait_for_function("document.getElementById('answer').textContent !== ''")
        assert browser.page.text_content("#answer") == str(expected)
        # the step model runs from its blob too
        browser.page.click("#stream-run")
        browser.page.wait_for_function("document.getElementById('stream').textContent.includes('step 5')")
        assert browser.errors == []


#: (problem as the registry names its architecture, typed inputs the page must encode as
#: Python does, and inputs both must refuse with the same message)
TYPED = {
    "vanilla": (["4,3,6,6,6", "0, 9,1 ,2,3"], ["4,3,6,6", "4,3,6,6,x", "4,3,6,6,10", "4,3,6,6,-1"]),
    "encoder_decoder": (["10+3+7", " 1 + 2+3 ", "10+10+10"], ["10+3", "11+3+7", "0+1+2", "a+b+c"]),
    "bidirectional": (["0.9,0.1,0.5,0.2,0.8,0.4,0.7,0.3,0.6,0.05"],
                      ["0.9,0.1", "1,0,0,0,0,0,0,0,0,0", "nan,0,0,0,0,0,0,0,0,0"]),
    "stacked": ([",".join(["0.5"] * 50)], [",".join(["0.5"] * 49), ",".join(["inf"] * 50)]),
}


def test_page_encodes_and_refuses_typed_input_as_the_problems_do(vanilla_web):
    """edgeseq.js's `encode` with each problem's page_io against Problem.encode: the page has no
    per-problem code, so these declarations are all there is to get right."""
    from edgeseq.targets.web.browser import BrowserPage

    directory, _ = vanilla_web
    with BrowserPage(directory / "web") as browser:
        for arch, (good, bad) in TYPED.items():
            problem = registry.get(arch).problem
            io = problem.page_io()["input"]
            spec = {"name": "input", "shape": [None, *problem.input_shape]}
            for text in good + [io["example"]]:
                got = browser.call("async ([io, spec, t]) => { const m = await import('./edgeseq.js');"
                                   " const e = m.encode(io, spec, t); return [Array.from(e.data), e.dims]; }",
                                   [io, spec, text])
                assert np.array_equal(np.array(got[0], np.float32).reshape(got[1]), problem.encode(text)), (arch, text)
            for text in bad:
                with pytest.raises(InputError) as python_says:
                    problem.encode(text)
                said = browser.call("async ([io, spec, t]) => { const m = await import('./edgeseq.js');"
                                    " try { m.encode(io, spec, t); return null; } catch (e) { return e.message; } }",
                                    [io, spec, text])
                assert said == str(python_says.value), (arch, text)
        # cnn_lstm: a line drawn column by column becomes the problem's own frames
        problem = registry.get("cnn_lstm").problem
        frames, _ = problem.generate(1, np.random.default_rng(3))
        lit = frames[0, ..., 0] > 0
        points = [[int(r), int(c)] for t in range(len(lit))
                  for r, c in zip(*np.nonzero(lit[t] & ~(lit[t - 1] if t else np.zeros_like(lit[t]))), strict=True)]
        spec = {"name": "input", "shape": [None, *problem.input_shape]}
        got = browser.call("async ([io, spec, p]) => { const m = await import('./edgeseq.js');"
                           " const e = m.encode(io, spec, p); return [Array.from(e.data), e.dims]; }",
                           [problem.page_io()["input"], spec, points])
        assert np.array_equal(np.array(got[0], np.float32).reshape(got[1]), frames)


def test_encoder_decoder_page_adds_10_3_7_as_python_does(ready, untrained, tmp_path):
    from edgeseq.targets.web import pack
    from edgeseq.targets.web.browser import BrowserPage

    directory = _copy(untrained("encoder_decoder"), tmp_path)
    folder, _ = pack.write(directory, runtime_files.find()[0])
    problem = registry.problem_from_manifest(manifest_file.load(directory))
    expected = problem.decode(open_runner(directory / "model.onnx").run_array(problem.encode("10+3+7")))[0]
    with BrowserPage(folder) as browser:
        browser.page.fill("#text", "10+3+7")
        browser.page.click("#run")
        browser.page.wait_for_function("document.getElementById('answer').textContent !== ''")
        assert browser.page.text_content("#answer") == str(expected)


def test_web_without_onnxruntime_web_says_how_to_install_it(ready, untrained, tmp_path):
    directory = _copy(untrained("vanilla"), tmp_path)
    result = cli_in_fresh_process("web", directory, "--ort-web", tmp_path / "nowhere")
    lines = stderr_lines(result)
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert f"npm install onnxruntime-web@{target.ORT_WEB_VERSION}" in lines[0]
    assert not (directory / "web").exists()


def test_web_without_chromium_says_what_is_missing_and_writes_nothing(ready, untrained, tmp_path):
    directory = _copy(untrained("vanilla"), tmp_path)
    env = os.environ | {"EDGESEQ_CHROMIUM": str(tmp_path / "no-chromium")}
    result = subprocess.run([sys.executable, "-m", "edgeseq", "web", str(directory)], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Chromium" in result.stderr and "Traceback" not in result.stderr
    assert not (directory / "web").exists()
    assert "web" not in manifest_file.load(directory)


def test_serve_serves_the_pack_on_loopback_with_isolation_headers(vanilla_web):
    directory, _ = vanilla_web
    server = subprocess.Popen([sys.executable, "-m", "edgeseq", "serve", str(directory), "--port", "0",
                               "--for", "30", "--isolated"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/index.html")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert b"edgeseq.js" in response.read()
        wasm = url.replace("index.html", "ort/ort-wasm-simd-threaded.wasm")
        with urllib.request.urlopen(wasm, timeout=10) as response:
            assert response.headers["Content-Type"] == "application/wasm"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_a_pack_is_one_line_exit_2(untrained):
    result = cli_in_fresh_process("serve", untrained("generative"), "--for", "1")
    lines = stderr_lines(result)
    assert result.returncode == 2 and len(lines) == 1 and "edgeseq web" in lines[0], result.stderr


def _parity(directory: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edgeseq", "parity", str(directory), "--reference", "stored",
                           "--web", "--json"], capture_output=True, text=True, timeout=600, env=env)


def test_parity_has_a_web_row_and_one_that_cannot_run_is_reported_not_failed(vanilla_web):
    directory, _ = vanilla_web
    ran = _parity(directory)
    assert ran.returncode == 0, ran.stderr
    document = json.loads(ran.stdout)
    (window,) = [r for r in document["results"] if r["runtime"] == "web"]
    assert window["passed"] and window["max_abs"] <= 1e-5 and window["argmax_agreement"] == 1.0
    (stream,) = [r for r in document["streaming"]["results"] if r["runtime"] == "web"]
    assert stream["passed"] and stream["reset_exact"]
    assert document["web"] == {"ran": True, "passed": True}

    without = _parity(directory, os.environ | {"EDGESEQ_CHROMIUM": str(directory / "no-chromium")})
    assert without.returncode == 0, without.stderr
    document = json.loads(without.stdout)
    assert not [r for r in document["results"] if r["runtime"] == "web"]
    assert document["web"]["ran"] is False and document["passed"]
    said = [line for line in without.stderr.splitlines() if line.startswith("web row not run")]
    assert len(said) == 1 and "Chromium" in said[0], without.stderr


def test_parity_of_an_export_with_a_page_reports_its_web_row_without_gating_it(vanilla_web):
    """Not asked for (no --web), the page of an export that has one is checked too, as a row
    edgeseq adds on its own: reported with gated false, never a failure; --no-web: none."""
    directory, _ = vanilla_web
    run = lambda *flags: subprocess.run([sys.executable, "-m", "edgeseq", "parity", str(directory),  # noqa: E731
                                         "--reference", "stored", "--json", *flags],
                                        capture_output=True, text=True, timeout=600)
    auto = run()
    assert auto.returncode == 0, auto.stderr
    document = json.loads(auto.stdout)
    (window,) = [r for r in document["results"] if r["runtime"] == "web"]
    assert window["gated"] is False and window["passed"]
    assert all(r.get("gated") is False for r in document["streaming"]["results"] if r["runtime"] == "web")
    none = run("--no-web")
    assert none.returncode == 0, none.stderr
    assert not [r for r in json.loads(none.stdout)["results"] if r["runtime"] == "web"]


def test_bench_web_row_times_the_page_and_its_floor(vanilla_web, monkeypatch):
    from edgeseq.targets.web import bench_row

    directory, _ = vanilla_web
    manifest = manifest_file.load(directory)
    problem = registry.problem_from_manifest(manifest)
    row = bench_row.web_row(directory, manifest, problem, calls=50, batch=4)
    assert row["runtime"] == "web" and row["file"] == "model.onnx"
    assert 0 < row["floor_p50_us"] and 0 < row["p50_us"] <= row["p99_us"] and row["step_p50_us"] > 0
    assert row["batch_throughput_per_s"] > 0 and row["load_ms"] > 0
    monkeypatch.setenv("EDGESEQ_CHROMIUM", str(directory / "no-chromium"))
    skipped = bench_row.web_row(directory, manifest, problem, calls=50, batch=4)
    assert isinstance(skipped, str) and skipped.startswith("web: ") and "Chromium" in skipped
