"""NumPy references of the update rules, written from the notes' and papers' equations.

Nothing here imports trainwell: each function runs one optimizer for ``steps`` steps on a gradient
function ``grad(w) -> g`` over a flat float64 vector ``w`` and returns the trajectory (steps + 1
rows, the start included). The tests run trainwell's optimizers on the same problem and compare
step by step (rtol 1e-6).

The base optimizer of the SAM family is torch.optim.SGD as its documentation states the rule:
b ← g on the first step, b ← μ b + g after; w ← w − lr · b.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-12          # SAM's ‖g‖ + 1e-12 (Foret et al.'s reference code)


# ---------------------------------------------------------------- problems
class Softmax:
    """Softmax regression on random data; w = [W.ravel(), b] with W (k, d), b (k)."""

    def __init__(self, X, y, k):
        self.X, self.y, self.k = X, y, k
        self.Y = np.eye(k)[y]

    def split(self, w):
        d = self.X.shape[1]
        return w[: self.k * d].reshape(self.k, d), w[self.k * d:]

    def loss(self, w):
        W, b = self.split(w)
        z = self.X @ W.T + b
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return -(self.Y * logp).sum(axis=1).mean()

    def grad(self, w):
        W, b = self.split(w)
        z = self.X @ W.T + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        r = (p - self.Y) / len(self.X)
        return np.concatenate([(r.T @ self.X).ravel(), r.sum(axis=0)])


class LogCosh:
    """f(w) = Σ log cosh(A w − c) + λ/2 ‖w‖²: smooth, convex, analytic Hessian (for Newton)."""

    def __init__(self, A, c, lam):
        self.A, self.c, self.lam = A, c, lam

    def loss(self, w):
        return np.log(np.cosh(self.A @ w - self.c)).sum() + 0.5 * self.lam * w @ w

    def grad(self, w):
        return self.A.T @ np.tanh(self.A @ w - self.c) + self.lam * w

    def hess(self, w):
        s = 1.0 - np.tanh(self.A @ w - self.c) ** 2
        return self.A.T @ (s[:, None] * self.A) + self.lam * np.eye(len(w))


# ---------------------------------------------------------------- base step
def sgd_momentum(w, g, buf, lr, mu):
    buf = g.copy() if buf is None else mu * buf + g
    return w - lr * buf, buf


# ---------------------------------------------------------------- SAM family
def sam(grad, w0, steps, *, lr, mu, rho, adaptive=False, eta=0.01, every=1, start_step=0):
    """Foret et al. 2021 (ASAM: Kwon et al. 2021); efficient SAM by ``every``/``start_step``."""
    w, buf, out = w0.copy(), None, [w0.copy()]
    for t in range(steps):
        g = grad(w)
        if t >= start_step and t % every == 0:
            if adaptive:
                T = np.abs(w) + eta
                e = rho * T * T * g / (np.linalg.norm(T * g) + EPS)
            else:
                e = rho * g / (np.linalg.norm(g) + EPS)
            g = grad(w + e)
        w, buf = sgd_momentum(w, g, buf, lr, mu)
        out.append(w.copy())
    return np.array(out)


def eg_sam(grad, w0, steps, *, lr, mu, rho, eta=None):
    """EG-SAM (Yu, Zhang, Kwok 2024): w̃ = w − η g + ρ g/‖g‖; step with ∇L(w̃)."""
    w, buf, out = w0.copy(), None, [w0.copy()]
    for _ in range(steps):
        g = grad(w)
        e = lr if eta is None else eta
        w_tilde = w - e * g + rho * g / (np.linalg.norm(g) + EPS)
        w, buf = sgd_momentum(w, grad(w_tilde), buf, lr, mu)
        out.append(w.copy())
    return np.array(out)


def og_sam(grad, w0, steps, *, lr, mu, rho):
    """OG-SAM: w̃_t = w − η ĝ_{t−1} + ρ g/‖g‖ with ĝ_{t−1} = ∇L(w̃_{t−1}) (ĝ_0 = g)."""
    w, buf, out, g_hat = w0.copy(), None, [w0.copy()], None
    for _ in range(steps):
        g = grad(w)
        prev = g if g_hat is None else g_hat
        w_tilde = w - lr * prev + rho * g / (np.linalg.norm(g) + EPS)
        g_hat = grad(w_tilde)
        w, buf = sgd_momentum(w, g_hat, buf, lr, mu)
        out.append(w.copy())
    return np.array(out)


def ao_sam(grad, w0, steps, *, lr, mu, rho, total, delta, c_start, c_end):
    """AO-SAM: OG-SAM when ‖g‖² ≥ μ + c_t σ (AE-SAM's EMAs, Jiang et al. 2023), else a plain step."""
    w, buf, out, g_hat = w0.copy(), None, [w0.copy()], None
    m = v = 0.0
    decisions = []
    for t in range(steps):
        g = grad(w)
        s = g @ g
        m = delta * m + (1 - delta) * s
        v = delta * v + (1 - delta) * (s - m) ** 2
        c = c_start + (c_end - c_start) * min(t / total, 1.0)
        use = s >= m + c * np.sqrt(v)
        decisions.append(bool(use))
        if use:
            prev = g if g_hat is None else g_hat
            w_tilde = w - lr * prev + rho * g / (np.linalg.norm(g) + EPS)
            g_hat = grad(w_tilde)
            d = g_hat
        else:
            g_hat = g
            d = g
        w, buf = sgd_momentum(w, d, buf, lr, mu)
        out.append(w.copy())
    return np.array(out), decisions


# ---------------------------------------------------------------- teaching variants (notes 003/004)
def rmsprop(grad, w0, steps, *, lr, decay, eps=1e-7):
    w, s, out = w0.copy(), np.zeros_like(w0), [w0.copy()]
    for _ in range(steps):
        dx = grad(w)
        s = decay * s + (1 - decay) * dx * dx
        w = w - lr * dx / (np.sqrt(s) + eps)
        out.append(w.copy())
    return np.array(out)


def adagrad(grad, w0, steps, *, lr, eps=1e-7):
    w, s, out = w0.copy(), np.zeros_like(w0), [w0.copy()]
    for _ in range(steps):
        dx = grad(w)
        s = s + dx * dx
        w = w - lr * dx / (np.sqrt(s) + eps)
        out.append(w.copy())
    return np.array(out)


def nesterov_lookahead(grad, x0, steps, *, lr, rho):
    """v ← ρ v − α ∇f(x + ρ v); x ← x + v. Returns the x and v trajectories."""
    x, v, xs, vs = x0.copy(), np.zeros_like(x0), [x0.copy()], [np.zeros_like(x0)]
    for _ in range(steps):
        v = rho * v - lr * grad(x + rho * v)
        x = x + v
        xs.append(x.copy())
        vs.append(v.copy())
    return np.array(xs), np.array(vs)


def nesterov_rearranged(grad, x0, steps, *, lr, rho):
    """x̃ form: v ← ρ v − α ∇f(x̃); x̃ ← x̃ − ρ v_old + (1 + ρ) v."""
    x, v, out = x0.copy(), np.zeros_like(x0), [x0.copy()]
    for _ in range(steps):
        old_v = v
        v = rho * v - lr * grad(x)
        x = x - rho * old_v + (1 + rho) * v
        out.append(x.copy())
    return np.array(out)


def sign_sgd(grad, w0, steps, *, lr, momentum=0.0):
    w, m, out = w0.copy(), np.zeros_like(w0), [w0.copy()]
    for _ in range(steps):
        g = grad(w)
        m = g if momentum == 0 else momentum * m + (1 - momentum) * g
        w = w - lr * np.sign(m)
        out.append(w.copy())
    return np.array(out)


def adam(grad, w0, steps, *, lr, beta1=0.9, beta2=0.999, eps=1e-7, bias_correction=True):
    """Notes 004's Adam (full form with bias correction, or the 'incomplete, but close' form)."""
    w, m, v, out = w0.copy(), np.zeros_like(w0), np.zeros_like(w0), [w0.copy()]
    for t in range(1, steps + 1):
        dx = grad(w)
        m = beta1 * m + (1 - beta1) * dx
        v = beta2 * v + (1 - beta2) * dx * dx
        if bias_correction:
            w = w - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
        else:
            w = w - lr * m / (np.sqrt(v) + eps)
        out.append(w.copy())
    return np.array(out)


# ---------------------------------------------------------------- Newton (notes 004)
def newton(problem, w0, steps, *, lr=1.0, damping=1e-4, line_search=True, c=1e-4):
    """θ ← θ − t·lr·(H + λI)⁻¹ g, t halved until Armijo's sufficient decrease holds."""
    w, out = w0.copy(), [w0.copy()]
    for _ in range(steps):
        g, H = problem.grad(w), problem.hess(w)
        lam = damping
        while np.linalg.eigvalsh(H + lam * np.eye(len(w))).min() <= 0:
            lam *= 10
        d = -lr * np.linalg.solve(H + lam * np.eye(len(w)), g)
        t = 1.0
        if line_search:
            f0 = problem.loss(w)
            while problem.loss(w + t * d) > f0 + c * t * (g @ d):
                t *= 0.5
        w = w + t * d
        out.append(w.copy())
    return np.array(out)


# ---------------------------------------------------------------- BFGS (notes 004: quasi-Newton)
def bfgs(problem, w0, steps, *, lr=1.0, c=1e-4, curvature_eps=1e-8):
    """d = −H g, Armijo backtracking from t = 1; then with s = Δw, y = Δg, ρ = 1/yᵀs:
    H ← (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ (Nocedal & Wright 2006, eq. 6.17), H₀ = I, scaled to
    (yᵀs/yᵀy)·I before the first update (eq. 6.20); pairs with yᵀs ≤ ε‖y‖‖s‖ are skipped."""
    n = len(w0)
    w, out, H, prev = w0.copy(), [w0.copy()], None, None
    for _ in range(steps):
        g = problem.grad(w)
        if prev is not None:
            s, y = w - prev[0], g - prev[1]
            ys = y @ s
            if ys > curvature_eps * np.linalg.norm(y) * np.linalg.norm(s):
                if H is None:
                    H = (ys / (y @ y)) * np.eye(n)
                rho = 1.0 / ys
                V = np.eye(n) - rho * np.outer(y, s)
                H = V.T @ H @ V + rho * np.outer(s, s)
        d = -lr * (g if H is None else H @ g)
        t, f0 = 1.0, problem.loss(w)
        while problem.loss(w + t * d) > f0 + c * t * (g @ d):
            t *= 0.5
        prev = (w.copy(), g)
        w = w + t * d
        out.append(w.copy())
    return np.array(out)


# ---------------------------------------------------------------- the same problems on the torch side
# (plain torch, no trainwell: a closure in the trainer's protocol and a loop that records trajectories)
def random_softmax(seed=0, n=24, d=4, k=3):
    """(numpy Softmax problem, w0) with the data drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    return Softmax(X, y, k), 0.5 * rng.normal(size=k * d + k)


def torch_softmax(problem, w0):
    """Parameters [W, b] (float64) at w0 and ``loss_fn()`` computing the same softmax loss."""
    import torch

    W0, b0 = problem.split(w0)
    W = torch.nn.Parameter(torch.tensor(W0))
    b = torch.nn.Parameter(torch.tensor(b0))
    X, y = torch.tensor(problem.X), torch.tensor(problem.y)

    def loss_fn():
        return torch.nn.functional.cross_entropy(X @ W.T + b, y)

    return [W, b], loss_fn


def make_closure(optimizer, loss_fn, *, calls=None, clip=None, params=None):
    """The trainer's closure protocol: backward=True zeroes grads, backward, (clips), returns loss."""
    import torch

    def closure(backward: bool = True):
        if calls is not None:
            calls.append(1)
        loss = loss_fn()
        if not backward:
            return loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(params, clip)
        return loss.detach()

    return closure


def run_torch(optimizer, params, loss_fn, steps, *, record=True):
    """Trajectory (steps + 1 rows) of the flattened params under the trainer's step protocol."""
    import torch

    closure = make_closure(optimizer, loss_fn)
    flat = lambda: torch.cat([p.detach().reshape(-1) for p in params]).clone().numpy()  # noqa: E731
    out = [flat()]
    for _ in range(steps):
        if getattr(optimizer, "requires_closure", False):
            optimizer.step(closure)
        else:
            closure()
            optimizer.step()
        if record:
            out.append(flat())
    return np.array(out) if record else flat()


def elongated(w):
    """Notes 003's elongated quadratic f(x₁, x₂) = x₁² + 4x₂² (minimum 0 at the origin)."""
    return w[0] ** 2 + 4 * w[1] ** 2


def minimize_torch(make_optimizer, f, start, steps):
    """Runs ``make_optimizer([w])`` on f from ``start`` (float64); returns (final w, final f)."""
    import torch

    w = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    optimizer = make_optimizer([w])
    run_torch(optimizer, [w], lambda: f(w), steps, record=False)
    w = w.detach()
    return w.numpy(), float(f(w))
