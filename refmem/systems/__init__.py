"""What the hippocampus and the neocortex do together.

========================  ==========================================================
``consolidation``         the consolidation process: replayed memories train the VAE,
                          with per-epoch measurement, checkpoints and exact resume
``extended``              the extended model: sensory + conceptual traces, hybrid recall
``replay_training``       consolidate any VAE from Hopfield replays of an image set in one call
``days``                  consolidation over days: cohorts stored, replayed and consolidated
``recall``                hippocampal, neocortical, arbitrated (partial lesion) and
                          gist-then-Hopfield recall; exact recovery
========================  ==========================================================
"""
