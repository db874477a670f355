"""Shapes3D VAE training step throughput in PyTorch (NCHW or channels_last), batch 32 float32.

Usage: python step_torch.py THREADS nchw|cl STEPS (the reference modules of tests/torch_reference.py;
batch norm in eval mode, the affine map the paper ran; AMSGrad; BCE summed over pixels + KL)."""
import os, sys
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 4, "tests"))
from torch_reference import Shapes3DEncoder, Shapes3DDecoder
from _timing import report
threads, layout, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
torch.set_num_threads(threads); torch.manual_seed(0)
enc, dec = Shapes3DEncoder(), Shapes3DDecoder()
for m in (enc, dec): m.eval()  # BN as the paper ran it: the affine map
params = list(enc.parameters()) + list(dec.parameters())
opt = torch.optim.Adam(params, lr=1e-3, amsgrad=True)
x = torch.rand(32, 3, 64, 64)
if layout == "cl":
    enc, dec = enc.to(memory_format=torch.channels_last), dec.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
def step():
    opt.zero_grad(set_to_none=True)
    mu, lv = enc(x)
    z = mu + torch.exp(0.5 * lv) * torch.randn_like(mu)
    xh = dec(z)
    rec = torch.nn.functional.binary_cross_entropy(xh, x, reduction="sum") / 32
    kl = -0.5 * torch.sum(1 + lv - mu ** 2 - lv.exp()) / 32
    (rec + kl).backward(); opt.step()
report(step, steps, f"torch-{layout}", torch=torch.__version__)
