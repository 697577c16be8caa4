# SPDX-License-Identifier: LGPL-2.1-or-later
"""torch state as it is (issue 14): state_dicts and RNG states saved as
written, loaded back as torch tensors, and a resumed run bit-identical to an
uninterrupted one. Skipped when torch is not installed (tools/install-deps
installs Debian's python3-torch)."""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

import gi

gi.require_version('Ckpt', '1.0')
from gi.repository import Ckpt  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

needs_torch = unittest.skipUnless(torch is not None, 'torch is not installed')

# Trains a tiny model for STEPS steps with OPT, from a fixed seed; with
# --stop K it saves model+optimizer+RNG state at step K and exits (as if
# killed); with --resume it loads the latest checkpoint and continues. Prints
# the final parameters' bytes as hex.
TRAIN = textwrap.dedent('''
    import sys
    import gi
    gi.require_version('Ckpt', '1.0')
    from gi.repository import Ckpt
    import torch

    root, opt_name, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    STEPS, STOP = 12, 5
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(),
                                torch.nn.Dropout(0.2), torch.nn.Linear(8, 2))
    if opt_name == 'sgd':
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    mgr = Ckpt.Manager(root=root, durable=False)
    start = 0
    if mode == 'resume':
        state, start = mgr.load_latest()
        model.load_state_dict(state['model'])
        opt.load_state_dict(state['opt'])
        torch.set_rng_state(state['rng'])
    for step in range(start, STEPS):
        x = torch.randn(16, 4)
        y = torch.randn(16, 2)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if mode == 'stop' and step + 1 == STOP:
            mgr.save({'model': model.state_dict(), 'opt': opt.state_dict(),
                      'rng': torch.get_rng_state()}, step + 1)
            sys.exit(0)
    print(b''.join(p.detach().numpy().tobytes() for p in model.parameters()).hex())
''')


@needs_torch
class TorchTests(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix='ckpt-py-torch-')
        self.mgr = Ckpt.Manager(root=os.path.join(self.tmp, 'ck'), durable=False, keep_total=0)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def round_trip(self, value, r=1):
        self.mgr.save(value, r)
        return self.mgr.load(r)

    def test_every_dtype(self):
        gen = torch.Generator().manual_seed(1)
        base = torch.randn(3, 4, generator=gen) * 100
        dtypes = [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8,
                  torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool,
                  torch.complex64, torch.complex128]
        value = {}
        for dt in dtypes:
            if dt.is_complex:
                t = torch.complex(base, -base).to(dt)
            else:
                t = base.to(dt)
            value[str(dt)] = t
            value[str(dt) + ' 0-d'] = t[1, 2].clone()
            value[str(dt) + ' empty'] = t[:0]
            value[str(dt) + ' strided'] = t.t()
        v = Ckpt.to_variant(value)
        self.assertEqual(v.lookup_value('torch.bfloat16', None).get_child_value(0).get_string(),
                         '<bf2')
        self.assertEqual(v.lookup_value('torch.complex128', None).get_child_value(0).get_string(),
                         '<c16')
        back = self.round_trip(value)
        for key, t in value.items():
            with self.subTest(key=key):
                b = back[key]
                self.assertIsInstance(b, torch.Tensor)
                self.assertEqual(b.dtype, t.dtype)
                self.assertEqual(b.shape, t.shape)
                self.assertTrue(torch.equal(b, t))
                if t.numel():
                    self.assertEqual(b.contiguous().reshape(-1).view(torch.uint8).tolist(),
                                     t.contiguous().reshape(-1).view(torch.uint8).tolist())
                # Writable, independent of the checkpoint.
                b.zero_() if b.dtype != torch.bool else b.logical_not_()

    def test_tensor_kinds(self):
        p = torch.nn.Parameter(torch.ones(2))
        value = {'p': p, 'grad': torch.ones(2, requires_grad=True) * 2,
                 'neg': torch.ones(2).neg().conj()}
        back = self.round_trip(value)
        self.assertTrue(torch.equal(back['p'], p.detach()))
        self.assertFalse(back['p'].requires_grad)
        self.assertTrue(torch.equal(back['grad'], torch.full((2,), 2.0)))
        with self.assertRaises(TypeError):
            Ckpt.to_variant({'s': torch.ones(2).to_sparse()})

    def test_rng_state(self):
        torch.manual_seed(3)
        state = torch.get_rng_state()
        expected = torch.rand(5)
        back = self.round_trip({'rng': state})
        self.assertEqual(back['rng'].dtype, torch.uint8)
        torch.set_rng_state(back['rng'])
        self.assertTrue(torch.equal(torch.rand(5), expected))

    def test_state_dicts_load_without_conversion(self):
        for make_opt in (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9),
                         lambda ps: torch.optim.Adam(ps, lr=0.01)):
            model = torch.nn.Linear(3, 2)
            opt = make_opt(model.parameters())
            model(torch.randn(4, 3)).sum().backward()
            opt.step()
            value = {'model': model.state_dict(), 'opt': opt.state_dict()}
            self.mgr.save(value, 7)
            back = self.mgr.load(7)
            self.mgr.delete(7, None)
            self.assertEqual(list(back['opt']['state']), [0, 1])  # int keys
            self.assertIs(type(back['opt']['param_groups'][0]['params']), list)
            model2 = torch.nn.Linear(3, 2)
            opt2 = make_opt(model2.parameters())
            model2.load_state_dict(back['model'])
            opt2.load_state_dict(back['opt'])
            for a, b in zip(model.parameters(), model2.parameters()):
                self.assertTrue(torch.equal(a, b))
            self.assertEqual(repr(opt2.state_dict()), repr(opt.state_dict()))

    def test_resumed_run_is_bit_identical(self):
        for opt_name in ('sgd', 'adam'):
            with self.subTest(opt=opt_name):
                root = os.path.join(self.tmp, 'run-' + opt_name)

                def run(mode):
                    out = subprocess.run([sys.executable, '-c', TRAIN, root, opt_name, mode],
                                         capture_output=True, text=True, timeout=120)
                    self.assertEqual(out.returncode, 0, out.stderr)
                    return out.stdout.strip()

                straight = run('straight')
                self.assertEqual(run('stop'), '')
                resumed = run('resume')
                self.assertTrue(straight)
                self.assertEqual(resumed, straight)

    def test_torch_imported_lazily(self):
        script = textwrap.dedent('''
            import sys, os, tempfile
            import gi
            gi.require_version('Ckpt', '1.0')
            from gi.repository import Ckpt
            import numpy as np
            root = os.path.join(tempfile.mkdtemp(), 'c')
            mgr = Ckpt.Manager(root=root, durable=False)
            mgr.save({'a': np.ones(2), 'b': [1.0]}, 1)
            mgr.load(1)
            assert 'torch' not in sys.modules
            import subprocess
            # A checkpoint with torch tensors imports torch when loaded.
            subprocess.run([sys.executable, '-c', 'import gi; gi.require_version("Ckpt", "1.0"); '
                            'from gi.repository import Ckpt; import torch; '
                            'Ckpt.Manager(root=%r).save({"t": torch.ones(2)}, 2)' % root],
                           check=True)
            t = mgr.load(2)['t']
            assert 'torch' in sys.modules
            assert type(t).__name__ == 'Tensor', type(t)
            print('ok')
        ''')
        out = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                             timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout.strip(), 'ok')


if __name__ == '__main__':
    unittest.main()
