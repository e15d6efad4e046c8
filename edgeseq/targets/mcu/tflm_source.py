"""TFLM's source tree at a pinned commit with the third-party trees its Makefile would
download, laid out where that download step puts them (tools/make/downloads/), so that its
Makefile builds offline.

The commits are TFLM's own pins at TFLM_COMMIT (its *_download.sh scripts and
third_party_downloads.inc), not the dependencies' newest: flatbuffers' generated schema
refuses any other flatbuffers version at compile time. From the network, each repository is
fetched with git at its commit; without (CI, a lab machine), --tflm-source DIR names a
directory of `git archive` tarballs of the same commits, checked by the commit id that git
writes into each tarball. The tree is made once into the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from ...errors import EdgeseqError

TFLM_COMMIT = "90b983c2b3f1480642e040bbd2ddb37b998f3424"
GIT_BASE = os.environ.get("EDGESEQ_GIT_BASE", "https://github.com")


@dataclass(frozen=True)
class Source:
    repository: str
    commit: str
    tarball: str  # its name in a --tflm-source directory
    into: str  # where it goes, from the tflite-micro root
    patch: str | None = None  # TFLM's patch its download script applies, from the root


DOWNLOADS = "tensorflow/lite/micro/tools/make/downloads"
SOURCES = (
    Source("tensorflow/tflite-micro", TFLM_COMMIT, "tflm.tar.xz", "."),
    Source("ARM-software/CMSIS-NN", "4ab83cc3cc98fb85ed6dafb55e8ca02f1628dcae", "cmsisnn.tar.xz",
           f"{DOWNLOADS}/cmsis_nn"),
    Source("ARM-software/CMSIS_6", "5782d6f8057906d360f4b95ec08a2354afe5c9b9", "cmsis6.tar.xz", f"{DOWNLOADS}/cmsis"),
    Source("ARM-software/Cortex_DFP", "c2c70a97a20fb355815e2ead3d4a40e35a4a3cdf", "dfp.tar.xz",
           f"{DOWNLOADS}/cmsis/Cortex_DFP"),
    Source("google/flatbuffers", "187240970746d00bbd26b0f5873ed54d2477f9f3", "fb.tar.xz", f"{DOWNLOADS}/flatbuffers",
           "tensorflow/lite/micro/tools/make/flatbuffers.patch"),  # v25.9.23
    Source("google/gemmlowp", "719139ce755a0f31cbf1c37f7f98adcc7fc9f425", "gl.tar.xz", f"{DOWNLOADS}/gemmlowp"),
    Source("google/ruy", "d37128311b445e758136b8602d1bbd2a755e115d", "ruy.tar.xz", f"{DOWNLOADS}/ruy"),
    Source("mborgerding/kissfft", "918336beac80868ad3011cb283063bb224e3e5da", "kiss.tar.xz", f"{DOWNLOADS}/kissfft",
           "third_party/kissfft/kissfft.patch"),  # v130
)


def _strip_top(tar: tarfile.TarFile, member: tarfile.TarInfo):
    """A tarball's members without their one top directory (git archive --prefix=NAME/)."""
    parts = member.name.split("/", 1)
    if len(parts) < 2 or not parts[1]:
        return None
    member.name = parts[1]
    return member


def _commit_of(tarball: Path) -> str | None:
    """The commit `git archive` recorded in the tarball's pax header."""
    try:
        with tarfile.open(tarball) as tar:
            return (tar.pax_headers or {}).get("comment")
    except (OSError, tarfile.TarError) as exc:
        raise EdgeseqError(f"{tarball}: not a readable tarball ({exc})") from None


def _from_tarball(source: Source, directory: Path, root: Path) -> None:
    tarball = directory / source.tarball
    if not tarball.is_file():
        raise EdgeseqError(f"--tflm-source {directory}: no {source.tarball} ({source.repository} at "
                           f"{source.commit[:12]})")
    commit = _commit_of(tarball)
    if commit != source.commit:
        raise EdgeseqError(f"--tflm-source {directory}: {source.tarball} is {source.repository} at "
                           f"{(commit or 'an unknown commit')[:12]}, TFLM {TFLM_COMMIT[:12]} pins {source.commit[:12]}")
    target = root / source.into
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as tar:
        members = [m for m in (_strip_top(tar, m) for m in tar.getmembers()) if m is not None]
        tar.extractall(target, members=members, filter="data")


def _from_git(source: Source, root: Path) -> None:
    if shutil.which("git") is None:
        raise EdgeseqError("fetching TFLM's sources needs git (apt-get install -y git), or give --tflm-source DIR")
    target = root / source.into
    clone = target.with_name(target.name + ".git-tmp")
    shutil.rmtree(clone, ignore_errors=True)
    url = f"{GIT_BASE}/{source.repository}"
    for command in (["git", "init", "-q", str(clone)],
                    ["git", "-C", str(clone), "fetch", "-q", "--depth", "1", url, source.commit],
                    ["git", "-C", str(clone), "checkout", "-q", "FETCH_HEAD"]):
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise EdgeseqError(f"cannot fetch {url} at {source.commit[:12]} ({last}); "
                               "without the network, give --tflm-source DIR")
    shutil.rmtree(clone / ".git")
    target.mkdir(parents=True, exist_ok=True)
    for entry in clone.iterdir():
        os.replace(entry, target / entry.name)
    clone.rmdir()


def _patch(source: Source, root: Path) -> None:
    done = subprocess.run(["patch", "-p1", "-s", "-i", str(root / source.patch)], cwd=root / source.into,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise EdgeseqError(f"TFLM's {source.patch} does not apply to {source.repository} "
                           f"({(done.stdout + done.stderr).strip().splitlines()[0]})")


def tree(cache: Path, given: Path | None = None) -> Path:
    """The tflite-micro root of the prepared tree in `cache` (made on first use, from `given`
    tarballs or with git). A prepared tree given as --tflm-source is used in place."""
    if given is not None and (Path(given) / DOWNLOADS).is_dir():
        return Path(given)
    root = Path(cache) / f"src-{TFLM_COMMIT[:12]}" / "tflite-micro"
    if root.is_dir():
        return root
    tmp = root.parent.with_name(root.parent.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    work = tmp / "tflite-micro"
    work.mkdir(parents=True)
    for source in SOURCES:  # TFLM first: the patches live in its tree
        if given is not None:
            _from_tarball(source, Path(given), work)
        else:
            _from_git(source, work)
        if source.patch:
            _patch(source, work)
    # TFLM's Makefile clones pigweed unless the directory exists; nothing of it goes into the
    # library (it serves TFLM's own tests)
    (work / DOWNLOADS / "pigweed").mkdir(exist_ok=True)
    os.replace(tmp, root.parent)
    return root
