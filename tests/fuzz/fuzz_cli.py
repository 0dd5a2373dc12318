#!/usr/bin/python3
"""Hostile-input fuzz driver for the aiaccel CLI (stdlib only).

Builds crafted files at run time from the real files in testdata/aia, runs `aiaccel info`,
`register`, `deconvolve --psf` (small PSF) and `prep` on each under a timeout and an address-space
limit, and checks the README's error contract on every run:
  * exit code 0, 1 or 2 (never a signal or a timeout);
  * on failure exactly one `aiaccel: ...` line on stderr, naming the file; no `internal error`,
    no `terminate called`, no stray line (control characters in names are escaped);
  * `prep`: every bad input is one `prep: FAILED` line naming it, failures.txt has one
    3-field line per failure, every good input of the batch is written;
  * no temp or partial file left in the output folder, nothing written outside it;
  * every input (image, PSF, tables) unchanged (sha256); no existing file silently replaced;
  * a successful register/deconvolve output is not degenerate (size >= 2x2, finite pixels).
Prints a table class | cases | OK | defects and exits 1 when any defect is found. Every defect line
names the case and the command that reproduces it.

  tests/fuzz/fuzz_cli.py --aiaccel build/apps/aiaccel [--quick] [--seed 12] [--only CLASS,...]
"""
import argparse
import hashlib
import json
import os
import random
import re
import resource
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fitsedit as F  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..'))

CUTOUT = 'aia_171_cutout.fits'          # RICE, CHECKSUM, 769x705, 171 Å
UTC1600 = '20120606_040731_UTC.0041.fits'  # RICE, CHECKSUM, BSCALE/BLANK, 854x480
PLAIN1600 = 'AIA20120606_040729_1600.fits'  # uncompressed float32, CHECKSUM
L1 = 'aia_171_level1.fits'              # uncompressed float64 128x128 full disk (register/prep work)
LOWRES = 'aia_lev1_1600a_2012_06_06t04_07_29_12z_image_lev1_lowres.fits'  # RICE float 2048²

ERR_LINE = re.compile(r'^aiaccel( [a-z-]+)?: ')  # "aiaccel: ..." or "aiaccel info: ..."
STDERR_PREFIXES = ('aiaccel', 'prep', 'register', 'deconvolve', 'info', 'psf', '[', '\r', '\x1b')


def sha(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()


def tree(d):
    """path -> (sha256 or kind) of everything under d (not following links)."""
    out = {}
    for base, dirs, files in os.walk(d):
        for n in dirs + files:
            p = os.path.join(base, n)
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[p] = sha(p) if st.st_size < (64 << 20) else 'size%d' % st.st_size
            elif stat.S_ISDIR(st.st_mode):
                out[p] = 'dir'
            else:
                out[p] = 'special'
    return out


def escaped(s):
    """Forms a message may use for a name with control characters."""
    forms = {s}
    for cc in ('\n', '\t', '\r', '\x1b', '\x01', '\x7f'):
        if cc in s:
            forms.add(s.split(cc)[0])  # the part before the control character
    return forms


class Case:
    def __init__(self, cls, name):
        self.cls, self.name, self.defects, self.commands = cls, name, [], []

    def defect(self, what, cmd=None):
        self.defects.append((what, cmd))


class Driver:
    def __init__(self, args):
        self.a = args
        self.exe = os.path.abspath(args.aiaccel)
        self.data = os.path.abspath(args.testdata)
        self.work = tempfile.mkdtemp(prefix='aiaccel-fuzz-', dir=args.work)
        self.cases = []
        self.rng = random.Random(args.seed)
        self.raw = {n: open(os.path.join(self.data, n), 'rb').read()
                    for n in (CUTOUT, UTC1600, PLAIN1600, L1, LOWRES)}
        self.n = 0

    # ----- running one command and checking the contract -----

    def cmdline(self, argv, mem_mb, env):
        pre = ''
        if mem_mb:
            pre = 'ulimit -v %d; ' % (mem_mb * 1024)
        envs = ''.join('%s=%s ' % (k, shlex.quote(v)) for k, v in (env or {}).items())
        return '(' + pre + envs + ' '.join(shlex.quote(x) for x in argv) + ')'

    def run(self, case, argv, *, expect='any', names=(), outdir=None, out=None, watch=None,
            mem_mb=None, timeout=None, env=None, prep_bad=(), prep_good=(), allow_signal=None,
            start_hook=None, check_output=True, cwd=None):
        """Runs argv and checks the contract. expect: 'ok' (rc 0), 'fail' (rc 2 for a single-file
        command; rc 1 or 2 for prep), 'any'. names: strings one of which the error must contain.
        outdir: folder the command may write into (prep) ; out: the single output file.
        watch: folder whose other contents must not change (defaults to the case folder)."""
        mem_mb = self.a.mem_mb if mem_mb is None else mem_mb
        timeout = timeout or self.a.timeout
        cmd = self.cmdline(argv, mem_mb, env)
        case.commands.append(cmd)
        watch = watch or self.case_dir(case)
        before = tree(watch)
        out_existed = out is not None and os.path.lexists(out)

        def limits():
            os.setsid()
            if mem_mb:
                resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

        full_env = dict(os.environ)
        full_env.update(env or {})
        t0 = time.time()
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=limits,
                             env=full_env, cwd=cwd or self.case_dir(case))
        if start_hook:
            start_hook(p)
        try:
            so, se = p.communicate(timeout=timeout)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            so, se = p.communicate()
            case.defect('timeout after %ds (hang)' % timeout, cmd)
            return None, '', ''
        so = so.decode('utf-8', 'replace')
        se = se.decode('utf-8', 'replace')
        dt = time.time() - t0
        first = lambda: (se.strip().splitlines() or ['(no stderr)'])[-1][:160]
        if rc < 0:
            if allow_signal is None or -rc != allow_signal:
                case.defect('killed by signal %d (%s); stderr: %s' % (-rc, signal.Signals(-rc).name, first()), cmd)
        elif rc not in (0, 1, 2):
            if not (allow_signal and rc == 128 + allow_signal):
                case.defect('exit code %d (not 0/1/2); stderr: %s' % (rc, first()), cmd)
        is_prep = len(argv) > 1 and argv[1] == 'prep'
        if rc is not None and rc >= 0 and not (allow_signal and rc in (128 + allow_signal,)):
            self.check_stderr(case, cmd, rc, se, names, is_prep, expect)
        if expect == 'ok' and rc != 0:
            case.defect('expected success, got exit %s: %s' % (rc, first()), cmd)
        if expect == 'fail':
            want = (1, 2) if is_prep else (2,)
            if rc not in want:
                case.defect('expected exit %s, got %s: %s' % ('/'.join(map(str, want)), rc, first()), cmd)
        if is_prep and outdir and rc in (0, 1, 2):
            self.check_prep(case, cmd, rc, se, outdir, prep_bad, prep_good)
        # filesystem contract
        after = tree(watch)
        for p_, h in before.items():
            if p_ == out and out_existed:
                continue
            if is_prep and outdir and os.path.dirname(p_) == outdir and '--overwrite' in argv:
                continue
            # prep's own records of the folder: every run (a --resume too) rewrites its manifest and
            # failures list, and the folder lock file goes when the run that made it ends.
            if is_prep and outdir and os.path.dirname(p_) == os.path.abspath(outdir) and (
                    os.path.basename(p_).startswith(('manifest', 'failures', '.aiaccel-prep.lock'))):
                continue
            if p_ not in after:
                case.defect('existing path removed: %s' % os.path.relpath(p_, watch), cmd)
            elif after[p_] != h and h != 'dir':
                case.defect('existing file changed (silent overwrite or modified input): %s'
                            % os.path.relpath(p_, watch), cmd)
        for p_ in sorted(set(after) - set(before)):
            base = os.path.basename(p_)
            rel = os.path.relpath(p_, watch)
            if p_ == out and rc == 0:
                continue
            if is_prep and outdir and os.path.dirname(p_) == os.path.abspath(outdir):
                if base.startswith('.') and ('tmp' in base or base.endswith('.part')):
                    case.defect('temp file left behind: %s' % ascii(rel), cmd)
                elif not (re.match(r'^aia_lev[0-9.]+_\d+a_.*\.fits$', base) or base.startswith('manifest')
                          or base.startswith('failures') or (base.startswith('.') and 'lock' in base)):
                    case.defect('unexpected file in the output folder: %s' % ascii(rel), cmd)
                continue
            if p_ == outdir:
                continue
            case.defect('new file left behind%s: %s' % (' (command failed)' if rc else '', ascii(rel)), cmd)
        if rc == 0 and out and check_output and argv[1] in ('register', 'deconvolve'):
            self.check_not_degenerate(case, cmd, out)
        return rc, so, se

    def check_stderr(self, case, cmd, rc, se, names, is_prep, expect):
        lines = [l for l in se.split('\n') if l.strip()]
        for l in lines:
            if 'internal error' in l or 'terminate called' in l or 'std::bad_alloc' in l:
                case.defect('internal error on stderr: %s' % ascii(l[:160]), cmd)
            elif not l.lstrip('\r').startswith(STDERR_PREFIXES):
                case.defect('stray stderr line (broken message?): %s' % ascii(l[:120]), cmd)
        if is_prep:
            return
        errs = [l for l in lines if ERR_LINE.match(l)]
        if rc != 0:
            if len(errs) != 1:
                case.defect('%d error lines on stderr (want exactly 1): %s' % (len(errs), ascii(se[-200:])), cmd)
            elif names and not any(f in errs[0] for n in names for f in escaped(n)):
                case.defect('error does not name the file: %s' % ascii(errs[0][:160]), cmd)

    def check_prep(self, case, cmd, rc, se, outdir, bad, good):
        failed = [l for l in se.split('\n') if 'FAILED' in l]
        for b in bad:
            if not any(f in l for l in failed for f in escaped(os.path.basename(b))):
                # a crafted file may be acceptable; then its output must exist (checked below)
                pass
        for l in failed:
            if not any(f in l for n in list(bad) + list(good) + [self.work] for f in escaped(n if n == self.work else os.path.basename(n))):
                case.defect('FAILED line names no input: %s' % ascii(l[:160]), cmd)
        fpath = os.path.join(outdir, 'failures.txt')
        nfail = len(failed)
        if os.path.exists(fpath):
            rows = [r for r in open(fpath, encoding='utf-8', errors='replace').read().split('\n') if r]
            rows = [r for r in rows if not r.startswith('#')]
            for r in rows:
                if len(r.split('\t')) != 3:
                    case.defect('failures.txt row without 3 tab-separated fields: %s' % ascii(r[:120]), cmd)
            if nfail and len(rows) != nfail and rc in (0, 1):
                case.defect('failures.txt has %d rows, stderr %d FAILED lines' % (len(rows), nfail), cmd)
        mpath = os.path.join(outdir, 'manifest.json')
        if rc in (0, 1) and os.path.exists(mpath):
            try:
                json.load(open(mpath, encoding='utf-8'))
            except ValueError as e:
                case.defect('manifest.json is not valid JSON: %s' % e, cmd)
        if rc in (0, 1):
            outs = [n for n in os.listdir(outdir) if n.endswith('.fits') and not n.startswith('.')]
            if len(outs) < len(good):
                case.defect('batch wrote %d outputs for %d good inputs (bad file sank the batch?)'
                            % (len(outs), len(good)), cmd)

    def check_not_degenerate(self, case, cmd, out):
        r = subprocess.run([self.exe, 'info', '--json', out], capture_output=True, timeout=60)
        if r.returncode != 0:
            if re.search(r'missing keyword|not a number', r.stderr.decode('utf-8', 'replace')):
                return  # the input lacked a keyword info needs (register does not): not the output's fault
            case.defect('output written with exit 0 is not readable: %s'
                        % r.stderr.decode('utf-8', 'replace').strip()[:160], cmd)
            return
        try:
            j = json.loads(r.stdout.decode().strip().splitlines()[0])
        except (ValueError, IndexError):
            return
        rows, cols, nan = j.get('rows', 0), j.get('cols', 0), j.get('nan_count', 0)
        if rows < 2 or cols < 2:
            case.defect('degenerate output with exit 0: %d x %d px' % (cols, rows), cmd)
        elif nan >= rows * cols:
            case.defect('output with exit 0 has no finite pixel (%d x %d, all NaN)' % (cols, rows), cmd)

    # ----- helpers -----

    def new_case(self, cls, name):
        c = Case(cls, name)
        self.cases.append(c)
        self.n += 1
        os.makedirs(self.case_dir(c), exist_ok=True)
        return c

    def case_dir(self, c):
        return os.path.join(self.work, '%04d-%s' % (self.cases.index(c), re.sub(r'[^A-Za-z0-9_.-]', '_', c.cls)))

    def put(self, case, name, data, mode=0o644):
        p = os.path.join(self.case_dir(case), name)
        with open(p, 'wb') as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def psf_for(self, case, rows=128, cols=128, kind='gauss'):
        h = F.parse(self.raw[L1])
        px = []
        for i in range(rows):
            for j in range(cols):
                if kind == 'zero':
                    px.append(0.0)
                elif kind == 'nan':
                    px.append(float('nan'))
                elif kind == 'inf':
                    px.append(float('inf'))
                elif kind == 'neg':
                    px.append(-1.0)
                else:
                    d2 = (i - rows // 2) ** 2 + (j - cols // 2) ** 2
                    px.append(2.718281828 ** (-d2 / 4.0))
        return self.put(case, 'psf.fits', F.simple_image([c for c in h[0].cards if c.startswith(('WAVELNTH', 'TELESCOP'))], rows, cols, px))

    def lowres_copy(self, i):
        return self.mutate_cards(LOWRES, lambda cs: F.set_card(cs, 'DATE-OBS', '2012-06-06T04:%02d:29.12' % (10 + i)))

    def mutate_cards(self, src, fn, fix_checksum=True):
        data = self.raw[src]
        hdus = F.parse(data)
        i = F.image_hdu(hdus)
        out = F.rebuild(data, hdus, i, fn(list(hdus[i].cards)))
        return F.fix_checksums(out) if fix_checksum else out

    def file_suite(self, cls, name, src, data, cmds=('info', 'prep'), expect='any', prep_expect=None):
        """One crafted file through the given commands (each its own checked run, one case)."""
        c = self.new_case(cls, name)
        d = self.case_dir(c)
        fn = 'in_' + src if not src.startswith('aia_171') else src
        p = self.put(c, fn, data)
        for cmd in cmds:
            self.one(c, cmd, p, expect if cmd != 'prep' else (prep_expect or expect))
        return c

    def one(self, c, cmd, p, expect, extra=()):
        d = self.case_dir(c)
        if cmd == 'info':
            self.run(c, [self.exe, 'info', p], expect=expect, names=[p])
            self.run(c, [self.exe, 'info', '--json', p], expect=expect, names=[p])
        elif cmd == 'register':
            o = os.path.join(d, 'reg_out.fits')
            self.run(c, [self.exe, 'register', p, '--backend', 'cpu', '-o', o], expect=expect, names=[p], out=o)
        elif cmd == 'deconvolve':
            psf = os.path.join(d, 'psf.fits')
            if not os.path.exists(psf):
                psf = self.psf_for(c)
            o = os.path.join(d, 'dec_out.fits')
            self.run(c, [self.exe, 'deconvolve', p, '--psf', psf, '-n', '2', '--backend', 'cpu', '-o', o],
                     expect=expect, names=[p, psf], out=o)
        elif cmd in ('prep', 'prep-exposure'):
            # the crafted file plus one good file: the good one must still be written
            good = os.path.join(d, 'good', L1)
            os.makedirs(os.path.dirname(good), exist_ok=True)
            if not os.path.exists(good):
                open(good, 'wb').write(self.mutate_cards(L1, lambda cs: F.set_card(cs, 'DATE-OBS', '2011-02-15T23:59:00.34')))
            outd = os.path.join(d, 'out-%s' % cmd)
            argv = [self.exe, 'prep', p, good, '-o', outd, '--backend', 'cpu', '--jobs', '2']
            if cmd == 'prep-exposure':
                argv += ['--steps', 'exposure']
            rc, so, se = self.run(c, argv + list(extra), expect='any', names=[p], outdir=outd,
                                  prep_bad=[p], prep_good=[good])
            if expect == 'fail' and rc == 0:
                c.defect('crafted input accepted by prep (expected a FAILED line)', self.cmdline(argv, self.a.mem_mb, None))

    # ----- classes -----

    def cls_baseline(self):
        for src in (CUTOUT, UTC1600, PLAIN1600, L1):
            self.file_suite('baseline', src, src, self.raw[src], cmds=('info',), expect='ok')
        c = self.file_suite('baseline', 'l1-all', L1, self.raw[L1], cmds=('register', 'deconvolve'), expect='ok')
        self.one(c, 'prep', os.path.join(self.case_dir(c), L1), 'ok')

    RICE = [
        ('ZTILE1', 0), ('ZTILE1', -1), ('ZTILE1', 2 ** 31), ('ZTILE2', 0), ('ZTILE2', 100000),
        ('ZVAL1', 0), ('ZVAL1', 9999999), ('ZVAL1', -1), ('ZVAL1', 'abc'), ('ZNAME1', 'BYTEPIX'),
        ('ZNAXIS', 3), ('ZNAXIS', 0), ('ZNAXIS', 1), ('ZNAXIS1', 0), ('ZNAXIS1', 2 ** 31),
        ('ZNAXIS2', 2 ** 32), ('ZNAXIS2', 1), ('ZNAXIS1', -5),
        ('ZBITPIX', 7), ('ZBITPIX', -16), ('ZBITPIX', 64), ('ZBITPIX', 8), ('ZBITPIX', -32),
        ('ZCMPTYPE', 'FOO_1'), ('ZCMPTYPE', 'GZIP_1'), ('ZCMPTYPE', 'HCOMPRESS_1'), ('ZCMPTYPE', 'PLIO_1'),
        ('ZCMPTYPE', 'NOCOMPRESS'), ('ZCMPTYPE', 'GZIP_2'), ('ZQUANTIZ', 'GARBAGE'), ('ZQUANTIZ', 'SUBTRACTIVE_DITHER_2'),
        ('TFORM1', '1PB(0)'), ('TFORM1', '1PB(999999999)'), ('TFORM1', '1QB(806)'), ('TFORM1', 'XYZ'),
        ('TFORM1', '1PJ(806)'), ('TFORM1', '0PB'), ('PCOUNT', 0), ('PCOUNT', 2 ** 40), ('PCOUNT', -1),
        ('THEAP', 0), ('THEAP', 2 ** 31), ('THEAP', -8), ('NAXIS2', 1), ('NAXIS2', 100000), ('NAXIS1', 4),
        ('NAXIS1', 0), ('TFIELDS', 0), ('TFIELDS', 999), ('ZIMAGE', False), ('GCOUNT', 2),
    ]

    def cls_rice(self, quick):
        items = self.RICE if not quick else [x for x in self.RICE if x in (
            ('ZTILE1', 0), ('ZVAL1', 0), ('ZVAL1', 9999999), ('ZBITPIX', 7), ('TFORM1', '1PB(999999999)'), ('THEAP', 2 ** 31))]
        srcs = (CUTOUT,) if quick else (CUTOUT, UTC1600)
        for src in srcs:
            for k, v in items:
                data = self.mutate_cards(src, lambda cs: F.set_card(cs, k, v))
                self.file_suite('rice-params', '%s %s=%r' % (src, k, v), src, data,
                                cmds=('info', 'prep-exposure') if not quick else ('info',))
        # descriptors: (count, offset) pairs of the first rows
        for src in srcs:
            data = self.raw[src]
            hdus = F.parse(data)
            i = F.image_hdu(hdus)
            ds = hdus[i].dstart
            for name, cnt, off, row in [('count huge', 0x7fffffff, None, 0), ('offset huge', None, 0x7ffffff0, 0),
                                        ('offset -1', None, 0xffffffff, 3), ('count 0', 0, None, 1),
                                        ('count 1', 1, None, 2), ('offset 0 all', None, 0, 5),
                                        ('last row past heap', 4000, None, None)][: 3 if quick else 99]:
                b = bytearray(data)
                r = row if row is not None else int(hdus[i].value('NAXIS2')) - 1
                at = ds + 8 * r
                if cnt is not None:
                    b[at:at + 4] = cnt.to_bytes(4, 'big')
                if off is not None:
                    b[at + 4:at + 8] = off.to_bytes(4, 'big')
                self.file_suite('rice-descriptors', '%s %s row %d' % (src, name, r), src, F.fix_checksums(bytes(b)),
                                cmds=('info',) if quick else ('info', 'prep-exposure'))

    def cls_naxis(self, quick):
        vals = [('NAXIS1', 2 ** 32, 'NAXIS2', 2 ** 32), ('NAXIS1', 2 ** 31, 'NAXIS2', 1), ('NAXIS1', 100000, 'NAXIS2', 100000),
                ('NAXIS1', -1, None, None), ('NAXIS1', 0, None, None), ('NAXIS1', 2 ** 63 - 1, 'NAXIS2', 2),
                ('NAXIS1', 129, None, None), ('NAXIS2', 127, None, None), ('NAXIS', 3, 'NAXIS3', 2),
                ('NAXIS', 1, None, None), ('NAXIS', 0, None, None), ('NAXIS', 999, None, None),
                ('BITPIX', 7, None, None), ('BITPIX', 64, None, None), ('BITPIX', -16, None, None), ('BITPIX', 'abc', None, None)]
        if quick:
            vals = vals[:3]
        must_fail = {0, 1, 2, 3, 5, 8, 9, 12, 14, 15}  # sizes that cannot be right or do not fit the file
        for src in (L1,) if quick else (L1, PLAIN1600):
            for n, (k1, v1, k2, v2) in enumerate(vals):
                def fn(cs, k1=k1, v1=v1, k2=k2, v2=v2):
                    cs = F.set_card(cs, k1, v1)
                    return F.set_card(cs, k2, v2) if k2 else cs
                data = self.mutate_cards(src, fn)
                cmds = ('info', 'register') if quick else ('info', 'register', 'deconvolve', 'prep')
                self.file_suite('naxis-size', '%s %s=%s %s=%s' % (src, k1, v1, k2, v2), src, data, cmds=cmds,
                                expect='fail' if n in must_fail else 'any')
        if not quick:  # compressed: ZNAXIS vs table, already in rice-params; size vs file: shortened data
            for src in (CUTOUT, PLAIN1600):
                data = self.mutate_cards(src, lambda cs: F.set_card(cs, 'NAXIS2', 2 * int(F.parse(self.raw[src])[F.image_hdu(F.parse(self.raw[src]))].value('NAXIS2'))))
                self.file_suite('naxis-size', '%s NAXIS2 doubled (data past EOF)' % src, src, data, cmds=('info', 'prep'),
                                expect='fail')

    def cls_truncate(self, quick):
        for src in ((CUTOUT, L1) if quick else (CUTOUT, UTC1600, PLAIN1600, L1)):
            data = self.raw[src]
            hdus = F.parse(data)
            offs = {0, 1, 79, 80, 2879, 2880, 2881, len(data) - 1, len(data) - 2880, len(data) // 2}
            for h in hdus:
                offs |= {h.hstart + 10, h.dstart, h.dstart + 1, h.dstart + 8, h.dstart + h.dlen // 3}
            rng = random.Random(self.a.seed + len(data))
            while len(offs) < (8 if quick else 40):
                offs.add(rng.randrange(len(data)))
            offs = sorted(o for o in offs if 0 <= o < len(data))
            if quick:
                offs = offs[::max(1, len(offs) // 6)]
            h = hdus[F.image_hdu(hdus)]
            need = h.dstart + abs(int(h.value('BITPIX'))) // 8 * int(h.value('NAXIS1')) * int(h.value('NAXIS2')) \
                + int(h.value('PCOUNT') or 0)
            for o in offs:
                self.file_suite('truncation', '%s at %d' % (src, o), src, data[:o],
                                cmds=('info',) if quick or src != L1 else ('info', 'register'),
                                expect='fail' if o < need else 'any')

    def cls_bitflip(self, quick):
        rng = random.Random(self.a.seed * 7 + 1)
        n = 3 if quick else 12
        for src in ((CUTOUT,) if quick else (CUTOUT, UTC1600, PLAIN1600)):
            data = self.raw[src]
            hdus = F.parse(data)
            i = F.image_hdu(hdus)
            h = hdus[i]
            for where in ('header', 'data'):
                for _ in range(n):
                    b = bytearray(data)
                    if where == 'header':
                        # a value character of a non-structural card: the file stays parseable
                        ci = rng.randrange(len(h.cards) - 1)
                        at = h.hstart + ci * 80 + rng.randrange(11, 30)
                    else:
                        at = h.dstart + rng.randrange(int(h.value('NAXIS1')) * int(h.value('NAXIS2')) if h.value('ZIMAGE') == 'T' else h.dlen // 2,
                                                      h.dlen - 2880 if h.value('ZIMAGE') == 'T' else h.dlen)
                        at = min(at, len(data) - 1)
                    b[at] ^= 1 << rng.randrange(8)
                    c = self.new_case('checksum-bitflip', '%s %s byte %d' % (src, where, at))
                    p = self.put(c, src, bytes(b))
                    self.run(c, [self.exe, 'info', p], expect='any', names=[p])
                    # processing must refuse a CHECKSUM/DATASUM mismatch
                    outd = os.path.join(self.case_dir(c), 'out')
                    argv = [self.exe, 'prep', p, '-o', outd, '--steps', 'exposure', '--backend', 'cpu']
                    rc, so, se = self.run(c, argv, expect='any', names=[p], outdir=outd, prep_bad=[p])
                    if rc == 0:
                        c.defect('checksum mismatch not refused (processing exit 0)', self.cmdline(argv, self.a.mem_mb, None))

    def cls_scale_blank(self, quick):
        vals = [('BSCALE', 'abc'), ('BLANK', 'abc'), ('BSCALE', 0.0), ('BSCALE', float('nan')), ('BZERO', 1e308),
                ('BLANK', 1e30), ('BLANK', 2 ** 63), ('BSCALE', b"'           '"), ('BZERO', 'x'), ('BSCALE', -1e-300)]
        if quick:
            vals = vals[:2]
        for src in ((UTC1600,) if quick else (UTC1600, CUTOUT, L1)):
            for k, v in vals:
                self.file_suite('bscale-blank', '%s %s=%r' % (src, k, v), src,
                                self.mutate_cards(src, lambda cs: F.set_card(cs, k, v)),
                                cmds=('info',) if quick else ('info', 'prep-exposure'))

    def cls_duplicates(self, quick):
        vals = [('NAXIS1', 64), ('NAXIS2', 4096), ('BITPIX', 16), ('DATE-OBS', '2020-01-01T00:00:00'),
                ('WAVELNTH', 193), ('EXPTIME', 0.0), ('CRPIX1', 1e9), ('BSCALE', 2.0)]
        if quick:
            vals = vals[:1]
        for src in ((L1,) if quick else (L1, CUTOUT)):
            for k, v in vals:
                self.file_suite('duplicate-cards', '%s second %s=%r' % (src, k, v), src,
                                self.mutate_cards(src, lambda cs: F.dup_card(cs, k, v)),
                                cmds=('info', 'prep') if not quick else ('info',))

    KEYS = ['CRPIX1', 'CRPIX2', 'CDELT1', 'CDELT2', 'CRVAL1', 'CROTA2', 'RSUN_OBS', 'R_SUN', 'DSUN_OBS',
            'WAVELNTH', 'EXPTIME', 'T_OBS', 'DATE-OBS', 'INSTRUME', 'TELESCOP', 'LVL_NUM', 'QUALITY',
            'PC1_1', 'CUNIT1', 'CTYPE1', 'HGLT_OBS', 'CRLN_OBS', 'RSUN_REF', 'WAVEUNIT']
    GARBAGE = ['abc', float('nan'), 0, -1, 1e308, b'', b"'", 'T', 2 ** 63, float('inf')]

    def cls_keywords(self, quick):
        rng = random.Random(self.a.seed * 3)
        keys = self.KEYS if not quick else ['CDELT1', 'RSUN_OBS', 'WAVELNTH']
        for k in keys:
            self.file_suite('aia-wcs-keywords', '%s missing' % k, L1, self.mutate_cards(L1, lambda cs: F.del_card(cs, k)),
                            cmds=('info', 'register') if quick else ('info', 'register', 'prep'))
            for v in (self.GARBAGE if not quick else ['abc']):
                if quick or rng.random() < 0.35:
                    self.file_suite('aia-wcs-keywords', '%s=%r' % (k, v), L1, self.mutate_cards(L1, lambda cs: F.set_card(cs, k, v)),
                                    cmds=('info', 'register') if quick else ('info', 'register', 'prep'))

    def cls_date_obs(self, quick):
        vals = ['garbage', '../../../escape', '2013-03-10T12:00:11/../../x', '', '9999-99-99T99:99:99',
                '2013-03-10T12:00:11.341' + 'A' * 40, ' ', '..', '2013-13-40T25:61:61', '-0001-01-01T00:00:00']
        if quick:
            vals = vals[:2]
        for v in vals:
            c = self.new_case('date-obs', 'DATE-OBS=%r' % v)
            data = self.mutate_cards(L1, lambda cs: F.set_card(F.set_card(cs, 'DATE-OBS', v), 'T_OBS', v))
            p = self.put(c, 'in.fits', data)
            outd = os.path.join(self.case_dir(c), 'out')
            rc, so, se = self.run(c, [self.exe, 'prep', p, '-o', outd, '--backend', 'cpu'], names=[p], outdir=outd,
                                  prep_bad=[p], watch=self.work)
            if rc == 0 and v in ('garbage', '../../../escape', '', ' ', '..', '9999-99-99T99:99:99', '2013-13-40T25:61:61'):
                c.defect('prep accepted DATE-OBS=%r and named its output after it: %s'
                         % (v, [n for n in os.listdir(outd) if n.endswith('.fits')]), c.commands[-1])

    def cls_fifo(self, quick):
        c = self.new_case('fifo-special', 'FIFO input')
        p = os.path.join(self.case_dir(c), 'pipe.fits')
        os.mkfifo(p)
        for cmd in ('info', 'register'):
            argv = [self.exe, cmd, p] + (['-o', os.path.join(self.case_dir(c), 'o.fits')] if cmd != 'info' else [])
            self.run(c, argv, expect='fail', names=[p], timeout=5)
        outd = os.path.join(self.case_dir(c), 'out')
        self.run(c, [self.exe, 'prep', p, '-o', outd], expect='fail', names=[p], outdir=outd, prep_bad=[p],
                 timeout=5)
        if not quick:
            c = self.new_case('fifo-special', 'FIFO in a prep folder + /dev/zero + folder as input')
            d = os.path.join(self.case_dir(c), 'in')
            os.makedirs(d)
            os.mkfifo(os.path.join(d, 'a_pipe.fits'))
            shutil.copy(os.path.join(self.data, L1), d)
            outd = os.path.join(self.case_dir(c), 'out')
            self.run(c, [self.exe, 'prep', d, '-o', outd, '--backend', 'cpu'], names=['a_pipe'], outdir=outd,
                     prep_bad=['a_pipe.fits'], prep_good=[L1], timeout=min(30, self.a.timeout))
            self.run(c, [self.exe, 'info', '/dev/zero'], expect='fail', names=['/dev/zero'], timeout=20)
            self.run(c, [self.exe, 'info', d], expect='fail', names=[d], timeout=20)

    def cls_output_is_input(self, quick):
        c = self.new_case('output-is-input', 'register -o IN / symlink / hard link')
        d = self.case_dir(c)
        p = self.put(c, 'in.fits', self.raw[L1])
        os.symlink('in.fits', os.path.join(d, 'sym.fits'))
        os.link(p, os.path.join(d, 'hard.fits'))
        for o in ('in.fits', 'sym.fits', 'hard.fits', './in.fits', '../' + os.path.basename(d) + '/in.fits'):
            for cmd in ('register', 'deconvolve') if not quick else ('register',):
                argv = [self.exe, cmd, p, '--backend', 'cpu', '-o', os.path.join(d, o)]
                if cmd == 'deconvolve':
                    argv += ['--psf', self.psf_for(c), '-n', '1']
                self.run(c, argv, expect='fail', names=[p, o, os.path.join(d, o)])
        c = self.new_case('output-is-input', 'deconvolve -o PSF (and via links)')
        d = self.case_dir(c)
        p = self.put(c, 'in.fits', self.raw[L1])
        psf = self.psf_for(c)
        os.symlink('psf.fits', os.path.join(d, 'psf_sym.fits'))
        os.link(psf, os.path.join(d, 'psf_hard.fits'))
        for o in (('psf.fits',) if quick else ('psf.fits', 'psf_sym.fits', 'psf_hard.fits')):
            self.run(c, [self.exe, 'deconvolve', p, '--psf', psf, '-n', '1', '--backend', 'cpu', '-o', os.path.join(d, o)],
                     expect='fail', names=[psf, o, os.path.join(d, o)])
        if not quick:
            # prep with --overwrite into the folder that holds an input named like its own output
            c = self.new_case('output-is-input', 'prep --overwrite where an input is named like its output')
            d = self.case_dir(c)
            outd = os.path.join(d, 'out')
            os.makedirs(outd)
            probe = os.path.join(d, 'probe')
            subprocess.run([self.exe, 'prep', os.path.join(self.data, L1), '-o', probe, '--backend', 'cpu'], capture_output=True)
            names = [n for n in os.listdir(probe) if n.endswith('.fits')] if os.path.isdir(probe) else []
            shutil.rmtree(probe, ignore_errors=True)
            if names:
                p = os.path.join(outd, names[0])
                shutil.copy(os.path.join(self.data, L1), p)
                rc, so, se = self.run(c, [self.exe, 'prep', p, '-o', outd, '--backend', 'cpu', '--overwrite'], names=[p],
                                      outdir=outd, prep_bad=[p])
                if sha(p) != sha(os.path.join(self.data, L1)):
                    c.defect('prep --overwrite replaced its own input', c.commands[-1])

    def cls_output_paths(self, quick):
        c = self.new_case('output-paths', 'bad -o')
        d = self.case_dir(c)
        p = self.put(c, 'in.fits', self.raw[L1])
        os.makedirs(os.path.join(d, 'adir'))
        self.put(c, 'afile', b'x')
        bad = ['', '.', 'adir', 'adir/', 'missing/x.fits', 'afile/x.fits', 'x' * 300 + '.fits']
        if quick:
            bad = ['', '.', 'adir/', 'missing/x.fits']
        for o in bad:
            for cmd in ('register',) if quick else ('register', 'deconvolve'):
                argv = [self.exe, cmd, p, '--backend', 'cpu', '-o', o]
                if cmd == 'deconvolve':
                    argv += ['--psf', os.path.join(d, 'psf.fits') if os.path.exists(os.path.join(d, 'psf.fits')) else self.psf_for(c), '-n', '1']
                self.run(c, argv, expect='fail', names=[o] if o else ['output', "''", '""'], cwd=d)
        if not quick:
            for o in ('afile', 'in.fits'):
                outd = os.path.join(d, o)
                self.run(c, [self.exe, 'prep', p, '-o', outd, '--backend', 'cpu'], expect='fail', names=[o], cwd=d)

    def cls_control_names(self, quick):
        names = ['new\nline.fits', 'tab\there.fits', 'esc\x1b[31mred.fits', 'cr\rret.fits']
        if quick:
            names = names[:2]
        for n in names:
            c = self.new_case('control-char-names', ascii(n))
            d = self.case_dir(c)
            bad = self.put(c, n, self.raw[L1][:5000])
            self.run(c, [self.exe, 'info', bad], expect='fail', names=[bad])
            self.run(c, [self.exe, 'register', bad, '-o', os.path.join(d, 'o.fits')], expect='fail', names=[bad])
            good = os.path.join(d, 'good.fits')
            shutil.copy(os.path.join(self.data, L1), good)
            outd = os.path.join(d, 'out')
            self.run(c, [self.exe, 'prep', bad, good, '-o', outd, '--backend', 'cpu'], expect='fail', names=[bad],
                     outdir=outd, prep_bad=[bad], prep_good=[good])
            if not quick:
                self.run(c, [self.exe, 'register', good, '--backend', 'cpu', '-o', os.path.join(d, 'out' + n)], names=[n],
                         out=os.path.join(d, 'out' + n))

    def cls_degenerate(self, quick):
        h = F.parse(self.raw[L1])[0]
        shapes = [(2, 128), (128, 2), (1, 1), (3, 3), (1, 128)] if not quick else [(2, 128)]
        for rows, cols in shapes:
            c = self.new_case('degenerate-sizes', '%dx%d' % (rows, cols))
            cards = F.set_card(F.set_card(h.cards, 'CRPIX1', (cols + 1) / 2.0), 'CRPIX2', (rows + 1) / 2.0)
            cards = F.set_card(cards, 'RSUN_OBS', 0.1)
            cards = F.set_card(cards, 'R_SUN', 0.05)
            p = self.put(c, 'small.fits', F.simple_image(cards, rows, cols, [100.0] * (rows * cols)))
            for cmd in ('info', 'register') if quick else ('info', 'register', 'prep'):
                self.one(c, cmd, p, 'any')

    def cls_psf(self, quick):
        for kind in (('zero', 'nan') if quick else ('zero', 'nan', 'inf', 'neg')):
            c = self.new_case('psf-zero-nan', kind)
            p = self.put(c, 'in.fits', self.raw[L1])
            psf = self.psf_for(c, kind=kind)
            o = os.path.join(self.case_dir(c), 'o.fits')
            self.run(c, [self.exe, 'deconvolve', p, '--psf', psf, '-n', '2', '--backend', 'cpu', '-o', o], names=[psf, p], out=o)
            if not quick:
                self.run(c, [self.exe, 'deconvolve', p, '--psf', psf, '-n', '2', '--backend', 'reference', '-o', o], names=[psf, p], out=o)
        if not quick:
            c = self.new_case('psf-zero-nan', 'psf shape mismatch')
            p = self.put(c, 'in.fits', self.raw[L1])
            psf = self.psf_for(c, 64, 64)
            self.run(c, [self.exe, 'deconvolve', p, '--psf', psf, '-n', '2', '-o', os.path.join(self.case_dir(c), 'o.fits')],
                     expect='fail', names=[psf, p])

    def cls_concurrent(self, quick):
        c = self.new_case('concurrent-prep', 'two preps into one folder')
        d = self.case_dir(c)
        ind = os.path.join(d, 'in')
        os.makedirs(ind)
        n = 4 if quick else 8
        for i in range(n):
            data = self.mutate_cards(L1, lambda cs, i=i: F.set_card(cs, 'DATE-OBS', '2011-02-15T00:%02d:00.34' % i))
            open(os.path.join(ind, 'f%02d.fits' % i), 'wb').write(data)
        outd = os.path.join(d, 'out')
        argv = [self.exe, 'prep', ind, '-o', outd, '--backend', 'cpu', '--jobs', '1']
        cmd = self.cmdline(argv, 0, None) + ' & ' + self.cmdline(argv, 0, None) + '; wait'
        c.commands.append(cmd)
        ps = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=d) for _ in range(2)]
        res = []
        for p in ps:
            try:
                so, se = p.communicate(timeout=self.a.timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                so, se = p.communicate()
                c.defect('timeout', cmd)
            res.append((p.returncode, se.decode('utf-8', 'replace')))
        written = 0
        for rc, se in res:
            if rc not in (0, 1, 2):
                c.defect('exit %s: %s' % (rc, se.strip()[-160:]), cmd)
            m = re.search(r'prep: (\d+) written', se)
            written += int(m.group(1)) if m else 0
        if written > n:
            c.defect('both runs wrote: %d outputs written for %d inputs (no folder lock)' % (written, n), cmd)
        if not any(rc == 0 for rc, _ in res) and all(rc != 0 for rc, _ in res):
            c.defect('neither run succeeded: %s' % [r for r, _ in res], cmd)
        for rc, se in res:
            if rc == 2 and not re.search(r'lock|held|running|pid|another', se, re.I):
                c.defect('refused run does not say which run holds the folder: %s' % se.strip()[-160:], cmd)
        for nme in os.listdir(outd) if os.path.isdir(outd) else []:
            if nme.startswith('.') and 'tmp' in nme:
                c.defect('temp file left: %s' % nme, cmd)

    def cls_signals(self, quick):
        times = (0.3,) if quick else (0.05, 0.2, 0.5, 1.0, 2.0)
        for sig in ((signal.SIGTERM,) if quick else (signal.SIGTERM, signal.SIGINT)):
            for t in times:
                c = self.new_case('signal-mid-write', '%s after %.2fs' % (sig.name, t))
                d = self.case_dir(c)
                ind = os.path.join(d, 'in')
                os.makedirs(ind)
                for i in range(3):
                    open(os.path.join(ind, 'f%d.fits' % i), 'wb').write(self.lowres_copy(i))
                    data = self.mutate_cards(L1, lambda cs, i=i: F.set_card(cs, 'DATE-OBS', '2011-02-15T00:%02d:00.34' % i))
                    open(os.path.join(ind, 'g%d.fits' % i), 'wb').write(data)
                outd = os.path.join(d, 'out')
                argv = [self.exe, 'prep', ind, '-o', outd, '--backend', 'cpu', '--jobs', '2', '--steps', 'exposure']

                def hook(p, t=t, sig=sig):
                    time.sleep(t)
                    p.send_signal(sig)
                c.commands.append('# send %s after %.2f s' % (sig.name, t))
                self.run(c, argv, names=[], outdir=outd, allow_signal=int(sig), start_hook=hook)
                # the next run cleans stale temps of dead processes (here: after kill -9)
                if not quick and t == 1.0:
                    def hook9(p, t=t):
                        time.sleep(t)
                        p.send_signal(signal.SIGKILL)
                    c.commands.append('# kill -9 after %.2f s, then --resume' % t)
                    subprocess.run(argv, capture_output=True, preexec_fn=None, timeout=1) if False else None
                    p = subprocess.Popen(argv + ['--overwrite'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    hook9(p)
                    p.wait()
                    self.run(c, argv + ['--resume'], names=[], outdir=outd, prep_good=[])
                    left = [n for n in os.listdir(outd) if n.startswith('.') and 'tmp' in n]
                    if left:
                        c.defect('stale temps of a killed run survive --resume: %s' % left, c.commands[-1])

    def cls_jobs(self, quick):
        c = self.new_case('jobs-huge', 'prep --jobs huge')
        d = self.case_dir(c)
        p = os.path.join(d, 'in.fits')
        shutil.copy(os.path.join(self.data, L1), p)
        for j in (('100000',) if quick else ('100000', '1000000', '-1', '2147483647', 'abc')):
            outd = os.path.join(d, 'out' + j)
            self.run(c, [self.exe, 'prep', p, '-o', outd, '--backend', 'cpu', '--jobs', j], names=[p, j, '--jobs'],
                     outdir=outd, timeout=max(self.a.timeout, 60))

    def cls_memory(self, quick):
        for mem in ((300,) if quick else (150, 300, 500, 800)):
            c = self.new_case('ulimit-v', '%d MB' % mem)
            d = self.case_dir(c)
            p = os.path.join(d, 'in.fits')
            shutil.copy(os.path.join(self.data, L1), p)
            self.run(c, [self.exe, 'info', p], names=[p], mem_mb=mem, expect='ok' if mem >= 300 else 'any')
            self.run(c, [self.exe, 'register', p, '--backend', 'cpu', '-o', os.path.join(d, 'o.fits')], names=[p],
                     mem_mb=mem, out=os.path.join(d, 'o.fits'))
            if not quick:
                ind = os.path.join(d, 'in3')
                os.makedirs(ind)
                for i in range(3):
                    open(os.path.join(ind, 'f%d.fits' % i), 'wb').write(self.lowres_copy(i))
                outd = os.path.join(d, 'out')
                self.run(c, [self.exe, 'prep', ind, '-o', outd, '--backend', 'cpu', '--jobs', '2', '--steps', 'exposure'],
                         names=['f0', 'f1', 'f2'], outdir=outd, mem_mb=mem)

    POOL = [0, -1, 1, 2 ** 31, 2 ** 32, 2 ** 63, -2 ** 63, 1e308, float('nan'), 'abc', '', b'', b"'",
            b'1 2 3', b'T', b'((((', b'1E999', b'-0', b'0x10', 'A' * 70]

    def cls_random(self, quick):
        rng = random.Random(self.a.seed)
        n = 6 if quick else 120
        srcs = [CUTOUT, UTC1600, L1, PLAIN1600]
        for k in range(n):
            src = srcs[k % len(srcs)]
            data = self.raw[src]
            hdus = F.parse(data)
            i = F.image_hdu(hdus)
            kind = rng.choice(['card', 'card', 'cards3', 'bytes', 'delete', 'swap'])
            cards = list(hdus[i].cards)
            real = [j for j, cc in enumerate(cards) if cc[8:10] == '= ']
            desc = kind
            if kind in ('card', 'cards3'):
                for _ in range(1 if kind == 'card' else 3):
                    j = rng.choice(real)
                    key = cards[j][:8].rstrip()
                    v = rng.choice(self.POOL)
                    cards[j] = F.make_card(key, v)
                    desc += ' %s=%r' % (key, v)
                out = F.fix_checksums(F.rebuild(data, hdus, i, cards))
            elif kind == 'delete':
                j = rng.choice(real)
                desc += ' ' + cards[j][:8].rstrip()
                out = F.fix_checksums(F.rebuild(data, hdus, i, cards[:j] + cards[j + 1:]))
            elif kind == 'swap':
                a, b = rng.sample(real, 2)
                cards[a], cards[b] = cards[b], cards[a]
                desc += ' %s<->%s' % (cards[a][:8].rstrip(), cards[b][:8].rstrip())
                out = F.fix_checksums(F.rebuild(data, hdus, i, cards))
            else:
                b = bytearray(data)
                for _ in range(rng.randint(1, 16)):
                    at = rng.randrange(len(b))
                    b[at] = rng.randrange(256)
                    desc += ' @%d' % at
                out = F.fix_checksums(bytes(b)) if rng.random() < 0.5 else bytes(b)
            cmds = ('info',) if quick else (('info', 'prep') if src == L1 else ('info', 'prep-exposure'))
            self.file_suite('random-mutations', 'seed %d #%d %s: %s' % (self.a.seed, k, src, desc[:100]), src, out, cmds=cmds)

    def cls_libfuzzer(self, quick):
        # inputs the libFuzzer target found (tests/test_fuzz_regressions.cpp has them in-process)
        b = bytearray(self.raw[UTC1600])
        b[29478:29486] = b'\x13' + bytes(7)
        for name, data in (('RICE tile data overruns the decoder, stale checksum', bytes(b)),
                           ('RICE tile data overruns the decoder, checksum recomputed', F.fix_checksums(bytes(b))),
                           ('same, first 32 KB', F.fix_checksums(bytes(b))[:32768])):
            self.file_suite('libfuzzer-regressions', name, UTC1600, data,
                            cmds=('info',) if quick else ('info', 'prep-exposure'))

    def cls_reproducible(self, quick):
        # identical runs give identical file bytes (one second apart, so a timestamp would show)
        c = self.new_case('reproducible-bytes', 'register / deconvolve / prep twice')
        d = self.case_dir(c)
        p = self.put(c, 'in.fits', self.raw[L1])
        psf = self.psf_for(c)
        runs = [('register', ['--backend', 'cpu']), ('deconvolve', ['--psf', psf, '-n', '2', '--backend', 'cpu'])]
        for cmd, extra in runs if not quick else runs[:1]:
            outs = []
            for k in range(2):
                o = os.path.join(d, '%s%d.fits' % (cmd, k))
                self.run(c, [self.exe, cmd, p, '-o', o] + extra, expect='ok', names=[p], out=o)
                outs.append(sha(o) if os.path.exists(o) else None)
                time.sleep(1.1)
            if outs[0] != outs[1]:
                c.defect('two identical %s runs wrote different bytes' % cmd, c.commands[-1])
        if not quick:
            outs = []
            for k in range(2):
                outd = os.path.join(d, 'prep%d' % k)
                self.run(c, [self.exe, 'prep', p, '-o', outd, '--backend', 'cpu'], expect='ok', names=[p], outdir=outd)
                fits = sorted(n for n in os.listdir(outd) if n.endswith('.fits'))
                outs.append([sha(os.path.join(outd, n)) for n in fits])
                time.sleep(1.1)
            if outs[0] != outs[1]:
                c.defect('two identical prep runs wrote different bytes', c.commands[-1])

    CLASSES = ['baseline', 'libfuzzer', 'rice', 'naxis', 'truncate', 'bitflip', 'scale_blank', 'duplicates', 'keywords', 'date_obs',
               'fifo', 'output_is_input', 'output_paths', 'control_names', 'degenerate', 'psf', 'concurrent', 'signals',
               'jobs', 'memory', 'reproducible', 'random']

    def main(self):
        only = set(self.a.only.split(',')) if self.a.only else None
        if only and only - set(self.CLASSES):  # a misspelt class must not pass as "0 defects"
            sys.exit('fuzz_cli: unknown class(es) %s; classes: %s' % (','.join(sorted(only - set(self.CLASSES))), ','.join(self.CLASSES)))
        t0 = time.time()
        for name in self.CLASSES:
            if only and name not in only:
                continue
            if name == 'memory' and not self.a.mem_mb:
                print('fuzz_cli: ulimit-v class skipped (no address-space limits: sanitizer build)', file=sys.stderr)
                continue
            fn = getattr(self, 'cls_' + name)
            t1 = time.time()
            try:
                fn() if name == 'baseline' else fn(self.a.quick)
            except Exception as e:  # a driver bug must not hide the table
                c = self.new_case(name, 'driver error')
                c.defect('fuzz driver raised %s: %s' % (type(e).__name__, e))
            if self.a.verbose:
                print('  %-16s %.1f s' % (name, time.time() - t1), file=sys.stderr)
        return self.report(time.time() - t0)

    def report(self, secs):
        rows = {}
        for c in self.cases:
            r = rows.setdefault(c.cls, [0, 0, 0])
            r[0] += 1
            r[1] += 0 if c.defects else 1
            r[2] += 1 if c.defects else 0
        w = max([len(k) for k in rows] + [5])
        print('%-*s | cases |    OK | defects' % (w, 'class'))
        print('-' * w + '-|-------|-------|--------')
        tot = [0, 0, 0]
        for k, (n, ok, bad) in rows.items():
            print('%-*s | %5d | %5d | %7d' % (w, k, n, ok, bad))
            tot = [tot[0] + n, tot[1] + ok, tot[2] + bad]
        print('-' * w + '-|-------|-------|--------')
        print('%-*s | %5d | %5d | %7d' % (w, 'total', *tot))
        print('(%d commands in %.0f s, seed %d, work folder %s)' % (sum(len(c.commands) for c in self.cases), secs,
                                                                   self.a.seed, self.work))
        if tot[2]:
            print('\nDefects (case: problem; reproduce with the command, files in the work folder%s):'
                  % ('' if self.a.keep else ', kept with --keep'))
            for c in self.cases:
                for what, cmd in c.defects:
                    print('- [%s] %s: %s' % (c.cls, c.name if c.name.isprintable() else ascii(c.name), what))
                    if cmd:
                        print('    ' + cmd)
        if not self.a.keep and not tot[2]:
            shutil.rmtree(self.work, ignore_errors=True)
        return 1 if tot[2] else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--aiaccel', default=os.environ.get('AIACCEL_EXE', os.path.join(ROOT, 'build', 'apps', 'aiaccel')))
    ap.add_argument('--testdata', default=os.path.join(os.environ.get('AIACCEL_TESTDATA', os.path.join(ROOT, 'testdata')), 'aia'))
    ap.add_argument('--quick', action='store_true', help='the subset for the normal test suite (< 60 s)')
    ap.add_argument('--seed', type=int, default=12)
    ap.add_argument('--only', help='comma-separated classes: ' + ','.join(Driver.CLASSES))
    ap.add_argument('--timeout', type=int, default=60, help='seconds per command')
    ap.add_argument('--mem-mb', type=int, default=int(os.environ.get('AIACCEL_FUZZ_MEM_MB', 4096)),
                    help='address-space limit per command (0: none; sanitizer builds need 0)')
    ap.add_argument('--work', default=None, help='parent of the work folder (default: $TMPDIR)')
    ap.add_argument('--keep', action='store_true', help='keep the work folder even without defects')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    if not os.access(a.aiaccel, os.X_OK):
        print('fuzz_cli: %s: not an executable (build first)' % a.aiaccel, file=sys.stderr)
        return 2
    return Driver(a).main()


if __name__ == '__main__':
    sys.exit(main())
