#!/usr/bin/env python3
"""The tutorial's MPI program: every rank integrates its share of 4/(1+x^2) over [0, 1] (which is pi),
rank 0 gathers the shares and prints them with each rank's host, so the output proves that every
instance of the multi-instance task took part."""
import os
import socket
import sys

from mpi4py import MPI

INTERVALS = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000


def share(rank, size, n):
    """Midpoint rule over the intervals rank, rank+size, rank+2*size, ..."""
    h = 1.0 / n
    total = 0.0
    for i in range(rank, n, size):
        x = h * (i + 0.5)
        total += 4.0 / (1.0 + x * x)
    return total * h


def main():
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    part = share(rank, size, INTERVALS)
    node = os.environ.get("AZ_BATCH_NODE_ID", "-")
    gathered = comm.gather((rank, socket.gethostname(), node, part), root=0)
    if rank == 0:
        print(f"MPI world size: {size}")
        for r, host, node_id, p in sorted(gathered):
            print(f"rank {r} on host {host} (node {node_id}): partial sum {p:.12f}")
        pi = sum(g[3] for g in gathered)
        print(f"pi ~= {pi:.12f} (error {abs(pi - 3.141592653589793):.2e}) from {size} ranks, {INTERVALS} intervals")


if __name__ == "__main__":
    main()
