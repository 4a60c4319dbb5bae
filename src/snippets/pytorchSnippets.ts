import type { Snippet, SnippetImport } from './snippetTypes';

const TORCH: SnippetImport = { line: 'import torch', present: '^import\\s+torch\\s*$' };
const NN: SnippetImport = { line: 'from torch import nn', present: '^(import\\s+torch\\.nn\\s+as\\s+nn|from\\s+torch\\s+import\\s+(.*\\W)?nn(\\W.*)?)\\s*$' };
const F: SnippetImport = { line: 'import torch.nn.functional as F', present: '^(import\\s+torch\\.nn\\.functional\\s+as\\s+F|from\\s+torch\\.nn\\s+import\\s+functional\\s+as\\s+F)\\s*$' };

export const PYTORCH_SNIPPETS: readonly Snippet[] = [
  {
    id: 'dropout',
    framework: 'pytorch',
    title: 'Dropout',
    detail: 'nn.Dropout(p=0.1) after the last hidden activation',
    placement: 'layer',
    code: 'Dropout(p=0.1)',
    imports: [],
    source: 'Srivastava et al., JMLR 2014',
  },
  {
    id: 'batch-norm',
    framework: 'pytorch',
    title: 'Batch norm',
    detail: 'nn.BatchNorm1d after the last hidden activation (before any dropout)',
    placement: 'layer',
    code: 'BatchNorm1d({features})',
    imports: [],
    source: 'Ioffe & Szegedy, ICML 2015',
  },
  {
    id: 'nested-dropout',
    framework: 'pytorch',
    title: 'Nested dropout (bottleneck)',
    detail: 'Keeps only the first k feature units per batch; k ~ half-Gaussian (or geometric)',
    placement: 'definition',
    code: `class NestedDropout(nn.Module):
    """Nested dropout on a feature vector (Rippel et al. 2014; Chen et al. 2022).

    Per mini-batch draws k in 1..D and zeroes units k..D-1 (a prefix mask), which orders the
    features by importance. k ~ discretised half-Gaussian (sigma=10 for CIFAR-10, 100 for
    Clothing1M) or geometric (p(k) = (1 - rho) rho^(k - 1)). Identity in eval mode.
    """

    def __init__(self, sigma=10.0, distribution="half_gaussian", rho=0.9):
        super().__init__()
        self.sigma = sigma
        self.distribution = distribution
        self.rho = rho

    def forward(self, x):
        if not self.training:
            return x
        d = x.shape[-1]
        if self.distribution == "geometric":
            k = int(torch.distributions.Geometric(probs=torch.tensor(1.0 - self.rho)).sample().item()) + 1
        else:
            k = int(torch.randn(()).abs().item() * self.sigma) + 1
        k = min(max(k, 1), d)
        mask = torch.zeros(d, device=x.device, dtype=x.dtype)
        mask[:k] = 1.0
        return x * mask
`,
    imports: [TORCH, NN],
    source: 'Chen et al., "Compressing Features for Learning with Noisy Labels", 2022',
  },
  {
    id: 'multi-sample-dropout',
    framework: 'pytorch',
    title: 'Multi-sample dropout head',
    detail: 'M dropout masks through one shared classifier; average the M losses, not the logits',
    placement: 'definition',
    code: `class MultiSampleDropoutHead(nn.Module):
    """Multi-sample dropout (Inoue 2019): M masks, one shared classifier.

    In training returns logits of shape (M, batch, classes); average the per-sample losses with
    multi_sample_loss. In eval mode returns one pass without dropout.
    """

    def __init__(self, in_features, num_classes, samples=8, p=0.5):
        super().__init__()
        self.samples = samples
        self.dropout = nn.Dropout(p)
        self.fc = nn.Linear(in_features, num_classes)

    def forward(self, x):
        if not self.training:
            return self.fc(x)
        return torch.stack([self.fc(self.dropout(x)) for _ in range(self.samples)])


def multi_sample_loss(logits, target, criterion=F.cross_entropy):
    """Mean of the M losses of MultiSampleDropoutHead's training output."""
    if logits.dim() == 2:
        return criterion(logits, target)
    return torch.stack([criterion(sample, target) for sample in logits]).mean()
`,
    imports: [TORCH, NN, F],
    source: 'Inoue, "Multi-Sample Dropout for Accelerated Training and Better Generalization", 2019',
  },
  {
    id: 'cutmix',
    framework: 'pytorch',
    title: 'CutMix training step',
    detail: 'Paste a random box from a permuted batch; recompute lambda from the box; mix both losses',
    placement: 'definition',
    code: `def cutmix_step(model, images, labels, criterion, beta=1.0, prob=0.5):
    """One CutMix forward pass and loss (Yun et al. 2019); images are (N, C, H, W)."""
    if torch.rand(()).item() >= prob:
        return criterion(model(images), labels)
    lam = torch.distributions.Beta(beta, beta).sample().item()
    index = torch.randperm(images.size(0), device=images.device)
    h, w = images.shape[2], images.shape[3]
    cut_h, cut_w = int(h * (1.0 - lam) ** 0.5), int(w * (1.0 - lam) ** 0.5)
    cy, cx = torch.randint(h, ()).item(), torch.randint(w, ()).item()
    y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
    x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
    images = images.clone()
    images[:, :, y1:y2, x1:x2] = images[index, :, y1:y2, x1:x2]
    # The box was clipped to the image: recompute lambda from the pasted area.
    lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
    logits = model(images)
    return lam * criterion(logits, labels) + (1.0 - lam) * criterion(logits, labels[index])
`,
    imports: [TORCH],
    source: 'Yun et al., "CutMix", ICCV 2019',
  },
  {
    id: 'co-teaching',
    framework: 'pytorch',
    title: 'Co-teaching loop',
    detail: 'Two networks each pick small-loss samples for the other; forget rate ramps to the noise rate',
    placement: 'definition',
    code: `def forget_rate(epoch, noise_rate, ramp_epochs=10):
    """R(T) = min(T * tau / T_k, tau) (Han et al. 2018)."""
    return min(epoch * noise_rate / ramp_epochs, noise_rate)


def co_teaching_step(net1, net2, opt1, opt2, images, labels, rate):
    """Each network keeps its (1 - rate) smallest-loss samples; its peer trains on them."""
    loss1 = F.cross_entropy(net1(images), labels, reduction="none")
    loss2 = F.cross_entropy(net2(images), labels, reduction="none")
    keep = max(1, int((1.0 - rate) * labels.size(0)))
    idx1 = torch.argsort(loss1.detach())[:keep]
    idx2 = torch.argsort(loss2.detach())[:keep]
    # Cross update: net1 learns from net2's selection and vice versa.
    update1 = F.cross_entropy(net1(images[idx2]), labels[idx2])
    update2 = F.cross_entropy(net2(images[idx1]), labels[idx1])
    opt1.zero_grad()
    update1.backward()
    opt1.step()
    opt2.zero_grad()
    update2.backward()
    opt2.step()
    return update1.item(), update2.item()
`,
    imports: [TORCH, F],
    source: 'Han et al., "Co-teaching", NeurIPS 2018',
  },
  {
    id: 'mc-dropout-predict',
    framework: 'pytorch',
    title: 'MC-dropout predict (dropout-only train mode)',
    detail: 'T stochastic passes with only the dropout layers active; BatchNorm stays in eval mode',
    placement: 'definition',
    code: `@torch.no_grad()
def mc_dropout_predict(model, x, samples=20):
    """Mean softmax over T passes with only dropout active, plus the per-pass probabilities."""
    model.eval()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.dropout._DropoutNd):
            module.train()
    probs = torch.stack([torch.softmax(model(x), dim=-1) for _ in range(samples)])
    model.eval()
    return probs.mean(dim=0), probs
`,
    imports: [TORCH],
    source: 'Gal & Ghahramani, ICML 2016; STAR (Zhang et al. 2024)',
  },
  {
    id: 'modality-dropout',
    framework: 'pytorch',
    title: 'Modality (feature-group) dropout',
    detail: 'Per sample, replace a whole input group (e.g. the text embedding) with zeros',
    placement: 'definition',
    code: `class ModalityDropout(nn.Module):
    """Drops a whole feature group per training sample with probability p (McKee et al. 2023)."""

    def __init__(self, p=0.3):
        super().__init__()
        self.p = p

    def forward(self, group):
        if not self.training or self.p == 0:
            return group
        keep = (torch.rand(group.shape[0], device=group.device) >= self.p).to(group.dtype)
        return group * keep.view(-1, *([1] * (group.dim() - 1)))
`,
    imports: [TORCH, NN],
    source: 'McKee et al., CVPR 2023',
  },
  {
    id: 'candidate-dropout',
    framework: 'pytorch',
    title: 'Candidate (vocabulary) dropout',
    detail: 'Each training step scores a random half of the candidates; targets are re-indexed',
    placement: 'definition',
    code: `def candidate_dropout(logits, targets, keep=0.5):
    """Keeps a random subset of candidate columns (always the targets) and re-indexes targets (GTRS 2025)."""
    n = logits.shape[-1]
    mask = torch.rand(n, device=logits.device) < keep
    mask[targets] = True
    kept = mask.nonzero(as_tuple=True)[0]
    remap = torch.full((n,), -1, dtype=torch.long, device=logits.device)
    remap[kept] = torch.arange(kept.numel(), device=logits.device)
    return logits[..., kept], remap[targets]
`,
    imports: [TORCH],
    source: 'GTRS, 2025',
  },
  {
    id: 'decoupled-weight-decay',
    framework: 'pytorch',
    title: 'Decoupled weight decay (AdamW, no decay on biases/norms)',
    detail: 'torch.optim.AdamW with two parameter groups',
    placement: 'definition',
    code: `def adamw_with_param_groups(model, lr=1e-3, weight_decay=1e-2):
    """AdamW (Loshchilov & Hutter 2019); biases and normalization weights are not decayed."""
    decay, no_decay = [], []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.ndim >= 2 else no_decay).append(param)
    return torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
    )
`,
    imports: [TORCH],
    source: 'Loshchilov & Hutter, ICLR 2019',
  },
];
