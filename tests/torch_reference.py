"""Reference PyTorch modules of the paper's three VAEs (NCHW), named as refmem.interop.torch."""
import torch
import torch.nn.functional as F
from torch import nn


def same_pad(x, k, s):
    """Keras/TF 'same' padding: per axis total = max((ceil(n/s) - 1) s + k - n, 0),
    total // 2 before and the rest (the odd one) after."""
    pads = []
    for n in (x.shape[-1], x.shape[-2]):  # F.pad takes (left, right, top, bottom)
        total = max((-(-n // s) - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class ConvTransposeSame(nn.ConvTranspose2d):
    """Keras Conv2DTranspose(padding='same'): the full transposed convolution (length
    (n - 1) s + k), cropped to n s from offset max((n - 1) s + k - n s, 0) // 2."""

    def __init__(self, cin, cout, k, s):
        super().__init__(cin, cout, k, stride=s)

    def forward(self, x):
        y = super().forward(x)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        h, w = x.shape[-2] * sh, x.shape[-1] * sw
        top = max((x.shape[-2] - 1) * sh + kh - h, 0) // 2
        left = max((x.shape[-1] - 1) * sw + kw - w, 0) // 2
        return y[..., top:top + h, left:left + w]


def keras_bn(c):
    """Keras BatchNormalization (eps 1e-3); keep it in eval() mode to run it as the paper did."""
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class Shapes3DEncoder(nn.Module):
    def __init__(self, latent_dim=20, widths=(32, 64, 128, 256)):
        super().__init__()
        cin = 3
        for i, c in enumerate(widths, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, c, 4, stride=2))  # 'valid'
            setattr(self, f"bn{i}", keras_bn(c))
            cin = c
        self.mu = nn.Linear(cin, latent_dim)
        self.log_var = nn.Linear(cin, latent_dim)

    def forward(self, x):
        for i in range(1, 5):
            x = F.leaky_relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)), 0.3)
        h = x.mean(dim=(2, 3))  # global average pooling
        return self.mu(h), self.log_var(h)


class Shapes3DDecoder(nn.Module):
    def __init__(self, latent_dim=20, widths=(32, 64, 128, 256)):
        super().__init__()
        self.top = widths[3]
        self.dense = nn.Linear(latent_dim, 16 * widths[3])
        chans = [widths[3], widths[2], widths[1], widths[0], 3]
        for i in range(1, 5):
            setattr(self, f"conv{i}", nn.Conv2d(chans[i - 1], chans[i], 3, padding=1))  # 'same', k 3, s 1
            if i < 4:
                setattr(self, f"bn{i}", keras_bn(chans[i]))

    def forward(self, z):
        h = self.dense(z).view(-1, self.top, 4, 4)  # NCHW (the converter permuted dense)
        for i in range(1, 5):
            h = getattr(self, f"conv{i}")(F.interpolate(h, scale_factor=2, mode="nearest"))
            if i < 4:
                h = F.leaky_relu(getattr(self, f"bn{i}")(h), 0.3)
        return torch.sigmoid(h)


class MnistEncoder(nn.Module):
    def __init__(self, latent_dim=20):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, stride=2)
        self.conv2 = nn.Conv2d(32, 64, 3, stride=2)
        self.dense1 = nn.Linear(7 * 7 * 64, 16)
        self.dense2 = nn.Linear(16, 20)
        self.mu = nn.Linear(20, latent_dim)
        self.log_var = nn.Linear(20, latent_dim)

    def forward(self, x):
        x = F.relu(self.conv1(same_pad(x, 3, 2)))  # 28 -> 14, padding (0, 1)
        x = F.relu(self.conv2(same_pad(x, 3, 2)))  # 14 -> 7, padding (0, 1)
        h = self.dense2(F.relu(self.dense1(torch.flatten(x, 1))))  # NCHW flatten
        return self.mu(h), self.log_var(h)


class MnistDecoder(nn.Module):
    def __init__(self, latent_dim=20):
        super().__init__()
        self.dense = nn.Linear(latent_dim, 7 * 7 * 64)
        self.convt1 = ConvTransposeSame(64, 64, 3, 2)
        self.convt2 = ConvTransposeSame(64, 32, 3, 2)
        self.convt3 = ConvTransposeSame(32, 1, 3, 1)

    def forward(self, z):
        h = F.relu(self.dense(z)).view(-1, 64, 7, 7)
        h = F.relu(self.convt2(F.relu(self.convt1(h))))
        return torch.sigmoid(self.convt3(h))


class BowEncoder(nn.Module):
    def __init__(self, vocab_size, latent_dim=300):
        super().__init__()
        self.mu = nn.Linear(vocab_size, latent_dim)
        self.log_var = nn.Linear(vocab_size, latent_dim)

    def forward(self, x):
        return self.mu(x), self.log_var(x)


class BowDecoder(nn.Module):
    def __init__(self, vocab_size, latent_dim=300):
        super().__init__()
        self.dense = nn.Linear(latent_dim, vocab_size)

    def forward(self, z):
        return torch.sigmoid(self.dense(z))


class VAE(nn.Module):
    """``arch`` in {"shapes3d", "mnist", "bow"}; keyword arguments as refmem's constructors."""

    PARTS = {"shapes3d": (Shapes3DEncoder, Shapes3DDecoder), "mnist": (MnistEncoder, MnistDecoder),
             "bow": (BowEncoder, BowDecoder)}

    def __init__(self, arch, **kwargs):
        super().__init__()
        enc, dec = self.PARTS[arch]
        self.arch = arch
        self.encoder, self.decoder = enc(**kwargs), dec(**kwargs)

    def loss(self, x, eps):
        """The paper's loss as run, from fixed noise eps: (total, recon, kl, mu, log_var, x_hat)."""
        mu, log_var = self.encoder(x)
        z = mu + torch.exp(0.5 * log_var) * eps
        x_hat = self.decoder(z)
        kl_terms = -0.5 * (1 + log_var - mu ** 2 - torch.exp(log_var))
        if self.arch == "bow":  # mean BCE (Keras clipping, eps 1e-7) + 1e-3 x KL mean
            p = torch.clamp(x_hat, 1e-7, 1 - 1e-7)
            recon = -(x * torch.log(p + 1e-7) + (1 - x) * torch.log(1 - p + 1e-7)).mean()
            kl = kl_terms.mean()
            return recon + 1e-3 * kl, recon, kl, mu, log_var, x_hat
        recon = (x - x_hat).abs().mean(dim=1).sum(dim=(1, 2)).mean()  # channel mean, pixel sum
        kl = kl_terms.sum(dim=1).mean()
        return recon + kl, recon, kl, mu, log_var, x_hat
