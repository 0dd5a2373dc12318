# Sourced by the Slurm tests: start and stop a throw-away single-node Slurm cluster (munged,
# slurmctld, slurmd from Debian's packages) whose config, keys, sockets, logs and state all live
# under one temporary folder. Sandbox settings: no cgroups (proctrack/linuxproc, task/none),
# no accounting, one node "localhost" with 2 CPUs. Works as root (the CI container) or as a user
# that may run the daemons. Nothing outside $SLURM_SANDBOX is touched.
#
#   source tests/slurm/cluster.sh
#   slurm_sandbox_start DIR || exit 77   # prints why on stderr when the daemons cannot start
#   sbatch ...                           # SLURM_CONF points at the sandbox's slurm.conf
#   slurm_sandbox_stop                   # kills exactly the daemons it started

slurm_sandbox_why=""

_slurm_free_port() {  # a TCP port nobody listens on, in 20000-39999
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return 0; fi
  done
  return 1
}

_slurm_wait_for() {  # _slurm_wait_for SECONDS CMD...: retries CMD every 0.5 s
  local n=$(( $1 * 2 )); shift
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  return 1
}

slurm_sandbox_start() {
  SLURM_SANDBOX="$1"
  local d="$SLURM_SANDBOX"
  for b in munged mungekey slurmctld slurmd sbatch squeue scontrol sinfo; do
    if ! command -v "$b" >/dev/null && [ ! -x "/usr/sbin/$b" ]; then
      slurm_sandbox_why="$b not installed (tools/setup installs munge, slurmctld, slurmd, slurm-client)"; return 1
    fi
  done
  export PATH="$PATH:/usr/sbin"
  mkdir -p "$d"/{munge,state,spool,log,run}
  chmod 700 "$d/munge"
  mungekey --create --keyfile="$d/munge/munge.key" --force >/dev/null 2>&1 \
    || dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 600 "$d/munge/munge.key"
  local sock="$d/munge/munge.socket"
  # --force: munged refuses group-writable parents (e.g. /tmp) otherwise.
  if ! munged --force --key-file="$d/munge/munge.key" --socket="$sock" --pid-file="$d/run/munged.pid" \
       --log-file="$d/log/munged.log" --seed-file="$d/munge/seed" >"$d/log/munged.out" 2>&1; then
    slurm_sandbox_why="munged did not start: $(tail -n 2 "$d/log/munged.out" "$d/log/munged.log" 2>/dev/null | tr '\n' ' ')"; return 1
  fi
  local user host cport dport
  user="$(id -un)"; host="$(hostname -s)"
  cport="$(_slurm_free_port)"; dport="$(_slurm_free_port)"
  while [ "$dport" = "$cport" ]; do dport="$(_slurm_free_port)"; done
  cat >"$d/slurm.conf" <<CONF
ClusterName=aiaccel-sandbox
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$cport
SlurmdPort=$dport
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SchedulerType=sched/builtin
MaxArraySize=1001
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
MinJobAge=600
NodeName=localhost NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$d/slurm.conf"
  # The plugins read cgroup.conf only when cgroup plugins are configured; an empty one keeps
  # slurmd from looking in /etc/slurm.
  : >"$d/cgroup.conf"
  if ! slurmctld -f "$SLURM_CONF" -i >"$d/log/slurmctld.out" 2>&1; then
    slurm_sandbox_why="slurmctld did not start: $(tail -n 3 "$d/log/slurmctld.log" "$d/log/slurmctld.out" 2>/dev/null | tr '\n' ' ')"
    slurm_sandbox_stop; return 1
  fi
  if ! slurmd -f "$SLURM_CONF" -N localhost >"$d/log/slurmd.out" 2>&1; then
    slurm_sandbox_why="slurmd did not start: $(tail -n 3 "$d/log/slurmd.log" "$d/log/slurmd.out" 2>/dev/null | tr '\n' ' ')"
    slurm_sandbox_stop; return 1
  fi
  if ! _slurm_wait_for 30 sh -c "sinfo -h -N -o '%T' | grep -qE '^(idle|mixed|allocated)'"; then
    slurm_sandbox_why="the node did not come up within 30 s: $(sinfo -N 2>&1 | tail -n 1); $(tail -n 3 "$d/log/slurmd.log" 2>/dev/null | tr '\n' ' ')"
    slurm_sandbox_stop; return 1
  fi
  return 0
}

_slurm_kill_pidfile() {  # SIGTERM, then SIGKILL after 5 s, the one process named in the pid file
  local f="$1" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null)"; [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 10); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
}

slurm_sandbox_stop() {
  [ -n "${SLURM_SANDBOX:-}" ] || return 0
  local d="$SLURM_SANDBOX"
  [ -n "${SLURM_CONF:-}" ] && scancel --user="$(id -un)" >/dev/null 2>&1 || true
  _slurm_kill_pidfile "$d/run/slurmd.pid"
  _slurm_kill_pidfile "$d/run/slurmctld.pid"
  _slurm_kill_pidfile "$d/run/munged.pid"
}
