"""Effect checks of the three memory-distortion experiments at their presets: slow.

E10 consolidates its MNIST VAE (about a minute of CPU). E11 and E14 use the consolidated
Shapes3D VAE of the ``quick`` preset (trained once into the user cache if absent, several
minutes) or the file in ``$REFMEM_DISTORTIONS_VAE``. E14 needs a VAE whose decoder
renders the object's shape (the paper-scale one); it is skipped without
``$REFMEM_DISTORTIONS_VAE``, because the quick VAE recalls a cube and a sphere as the
same blob (docs/carmichael.md).
"""
import os

import pytest

pytestmark = pytest.mark.slow


def _all_pass(res):
    bad = [(r["id"], r["value"]) for r in res["criteria"] if not r["passed"]]
    assert not bad, bad
    assert res["controls_fail"]


def test_prototypes_quick(tmp_path):
    from refmem.experiments.prototypes import CONFIGS, run

    _all_pass(run(CONFIGS["quick"], str(tmp_path), quiet=True))


def test_boundary_quick(tmp_path):
    from refmem.experiments.boundary import CONFIGS, run

    _all_pass(run(CONFIGS["quick"], str(tmp_path), vae_path=os.environ.get("REFMEM_DISTORTIONS_VAE"), quiet=True))


@pytest.mark.skipif(not os.environ.get("REFMEM_DISTORTIONS_VAE"),
                    reason="needs a shape-rendering VAE in $REFMEM_DISTORTIONS_VAE (the paper-scale one)")
def test_carmichael_paper_vae(tmp_path):
    from refmem.experiments.carmichael import CONFIGS, run

    _all_pass(run(CONFIGS["paper"], str(tmp_path), vae_path=os.environ["REFMEM_DISTORTIONS_VAE"], quiet=True))
