#!/usr/bin/env python3
"""A Kubernetes API emulator (PyPI `kmock`) on 127.0.0.1:PORT, for tests.

usage: kube_emulator.py PORT
It serves create/get/list/merge-patch/watch for any resource (tekton.dev/v1
taskruns and pipelineruns included) and GET /healthz for readiness. It fills
in no uid or resourceVersion: tests supply what they need.
"""
import asyncio
import sys

import kmock


async def main(port: int) -> None:
    async with kmock.KubernetesEmulator() as emulator, kmock.Server(emulator, host="127.0.0.1", port=port):
        emulator["get /healthz"] << b"ok"
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
