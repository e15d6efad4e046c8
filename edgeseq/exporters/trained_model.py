"""Stage 0 of an export: the Keras model it converts — the trained model.keras already in
the directory, a user's own model (copied beside its exports), or one trained now."""

from __future__ import annotations

from pathlib import Path

from .. import manifest as manifest_file
from ..errors import CheckFailed, EdgeseqError
from ..registry import Architecture


def load_or_train(arch: Architecture, out_dir: Path, seed: int = 0, epochs: int | None = None,
                  replace_model: bool = False):
    """The trained Keras model in out_dir, training it first when there is none (or when
    replace_model says the one there belongs to another model and may go)."""
    import keras  # noqa: PLC0415

    from .. import training  # noqa: PLC0415

    path = out_dir / "model.keras"
    if arch.is_user_model:  # a user's own model: keep a copy beside its exports
        if arch.source_format == "saved_model":
            # a TFSMLayer wrapper saves only a pointer to the SavedModel: no copy; parity on a
            # device uses the stored Keras outputs (reference.npz)
            return arch.keras_model
        if not (path.is_file() and arch.path is not None and path.samefile(arch.path)):
            training.save(arch.keras_model, path)
            manifest_file.write_model_record(path, arch.name, "edgeseq export (a copy of your model)")
        return arch.keras_model
    if path.is_file() and not replace_model:
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as exc:  # zip, h5 and deserialization errors of every kind
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise EdgeseqError(f"{path} is not a loadable Keras model ({first}); move it away "
                               "or pass --force to train anew") from None
        _check_fits(arch, model, path)
        return model
    result = training.train(arch, seed=seed, epochs=epochs)
    target = arch.problem.metric.describe_target()
    if not result.reached:
        raise CheckFailed(f"{arch.name}: {result.metric} {result.value:.4f} misses the skill "
                          f"({target}); nothing written")
    training.save(result.model, path)
    manifest_file.write_model_record(path, arch.name, "edgeseq export (trained)")
    return result.model


def _check_fits(arch: Architecture, model, path: Path) -> None:
    """A model.keras placed by hand must be this architecture's: another model of other
    shapes would convert, then fail parity with a traceback or answer another problem."""
    import keras  # noqa: PLC0415

    expected = arch.build(keras)
    shapes = [tuple(t.shape[1:]) for t in (*model.inputs, *model.outputs)]
    wanted = [tuple(t.shape[1:]) for t in (*expected.inputs, *expected.outputs)]
    if shapes != wanted:
        raise EdgeseqError(f"{path} maps {shapes[0]} → {shapes[-1]}, but {arch.name} maps "
                           f"{wanted[0]} → {wanted[-1]}: not a {arch.name} model; move it away "
                           "or pass --force to train anew")
