#!/usr/bin/env python3
"""The model of scenarios/bench.toml, written as a plain SimPy script.

A reference point for clustersim's speed: 10,000 m5.xlarge hosts in three AZs,
one-container tasks (cpu 512, memoryReservation 2048 MiB, no ports), Poisson
arrivals at 93.333/s, exponential run times with mean 600 s, binpack(memory)
placement with random tie-breaking, and tasks that find no host dropped.

    pip install -r benches/simpy/requirements.txt
    python3 benches/simpy/bench_model.py               # full horizon, ~1,000,000 arrivals
    python3 benches/simpy/bench_model.py --horizon 600 # quick check
"""

import argparse
import bisect
import random
import time

import simpy

# m5.xlarge: 4 vCPU, 16 GiB. ECS registers all CPU units and 97.5 % of memory (floored).
HOST_CPU = 4096
HOST_MEM = int(16384 * 0.975)  # 15,974 MiB
HOSTS_PER_AZ = {"us-east-1a": 3334, "us-east-1b": 3333, "us-east-1c": 3333}

TASK_CPU = 512
TASK_MEM = 2048
ARRIVAL_RATE = 93.3333333  # per second
MEAN_RUN_TIME = 600.0  # seconds
HORIZON = 10714.3  # seconds


class Cluster:
    """Hosts' free resources, indexed by free memory for binpack(memory)."""

    def __init__(self, env, rng, hosts_per_az):
        self.env = env
        self.rng = rng
        self.az = [az for az, n in hosts_per_az.items() for _ in range(n)]
        n = len(self.az)
        self.free_cpu = [HOST_CPU] * n
        self.free_mem = [HOST_MEM] * n
        # free memory -> hosts with exactly that much free (a list, with each host's
        # position in it, so that removal is O(1) and random.choice works).
        self.buckets = {HOST_MEM: list(range(n))}
        self.pos = list(range(n))
        self.keys = [HOST_MEM]  # sorted free-memory values whose bucket is non-empty
        self.registered_mem = HOST_MEM * n
        self.reserved_mem = 0
        # Time-weighted integral of reserved memory.
        self.mem_area = 0.0
        self.last_change = 0.0

    def _unindex(self, h):
        mem = self.free_mem[h]
        bucket = self.buckets[mem]
        i, last = self.pos[h], bucket[-1]
        bucket[i] = last
        self.pos[last] = i
        bucket.pop()
        if not bucket:
            del self.buckets[mem]
            del self.keys[bisect.bisect_left(self.keys, mem)]

    def _index(self, h):
        mem = self.free_mem[h]
        bucket = self.buckets.get(mem)
        if bucket is None:
            bucket = self.buckets[mem] = []
            bisect.insort(self.keys, mem)
        self.pos[h] = len(bucket)
        bucket.append(h)

    def _account(self, delta_mem):
        now = self.env.now
        self.mem_area += self.reserved_mem * (now - self.last_change)
        self.last_change = now
        self.reserved_mem += delta_mem

    def place(self, cpu, mem):
        """binpack(memory): a host with the least free memory that fits; ties at random."""
        for k in range(bisect.bisect_left(self.keys, mem), len(self.keys)):
            bucket = self.buckets[self.keys[k]]
            h = self.rng.choice(bucket)
            if self.free_cpu[h] < cpu:
                # Uniform among the hosts of this bucket that fit CPU too.
                fits = [x for x in bucket if self.free_cpu[x] >= cpu]
                if not fits:
                    continue
                h = self.rng.choice(fits)
            self._unindex(h)
            self.free_cpu[h] -= cpu
            self.free_mem[h] -= mem
            self._index(h)
            self._account(mem)
            return h
        return None

    def release(self, h, cpu, mem):
        self._unindex(h)
        self.free_cpu[h] += cpu
        self.free_mem[h] += mem
        self._index(h)
        self._account(-mem)

    def mem_reserved_util_mean(self, horizon):
        area = self.mem_area + self.reserved_mem * (horizon - self.last_change)
        return area / (horizon * self.registered_mem)


class Stats:
    arrived = 0
    placed = 0
    failed = 0
    completed = 0


def task(env, cluster, stats, run_time):
    host = cluster.place(TASK_CPU, TASK_MEM)
    if host is None:
        stats.failed += 1
        return
    stats.placed += 1
    yield env.timeout(run_time)
    cluster.release(host, TASK_CPU, TASK_MEM)
    stats.completed += 1


def arrivals(env, cluster, stats, rng, rate):
    while True:
        yield env.timeout(rng.expovariate(rate))
        stats.arrived += 1
        env.process(task(env, cluster, stats, rng.expovariate(1.0 / MEAN_RUN_TIME)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=float, default=HORIZON, help="simulated seconds (default %(default)s)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default %(default)s)")
    parser.add_argument(
        "--hosts", type=int, default=sum(HOSTS_PER_AZ.values()), help="hosts in all, the first AZ taking the remainder (default %(default)s)"
    )
    parser.add_argument("--rate", type=float, default=ARRIVAL_RATE, help="arrivals per second (default %(default)s)")
    args = parser.parse_args()
    per_az = args.hosts // 3
    hosts_per_az = {"us-east-1a": args.hosts - 2 * per_az, "us-east-1b": per_az, "us-east-1c": per_az}

    rng = random.Random(args.seed)
    env = simpy.Environment()
    cluster = Cluster(env, rng, hosts_per_az)
    stats = Stats()
    env.process(arrivals(env, cluster, stats, rng, args.rate))

    start = time.perf_counter()
    env.run(until=args.horizon)
    wall = time.perf_counter() - start

    print(f"hosts                      {len(cluster.az)}")
    print(f"horizon_s                  {args.horizon}")
    print(f"seed                       {args.seed}")
    print(f"tasks_arrived              {stats.arrived}")
    print(f"tasks_placed               {stats.placed}")
    print(f"tasks_failed               {stats.failed}")
    print(f"tasks_completed            {stats.completed}")
    print(f"mem_reserved_util_mean     {cluster.mem_reserved_util_mean(args.horizon):.4f}")
    print(f"wall_s                     {wall:.2f}")


if __name__ == "__main__":
    main()
