"""Run the real Lambda image locally: dockerd, the stand-in base image, `sam build`, `sam local start-api`.

Used by tests/integration/test_sam_local.py and by ``python -m infra.local_sam`` (prints the measurements
that docs/benchmarks.md records). Everything it starts it stops: the SAM CLI process, the function's
containers, the S3 server, and dockerd if (and only if) dockerd was not running before.

Networking: `sam local` runs the function's container on Docker's default bridge (its ``--docker-network
host`` adds no host networking; SAM skips that network), so the container cannot reach the host's
127.0.0.1. The S3 server therefore listens on the bridge's own address on this machine (docker0), and is
reached only by the containers on that bridge; nothing leaves the machine.

The deployable template is used as `sam build` writes it; the only addition, in a copy, is the standard
``AWS_ENDPOINT_URL_S3`` that points boto3 in the container at that S3 server (SAM passes the container only
the variables a template declares). The bucket and prefix go through the template's own parameters.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.cfn_yaml import load_template, stack_uuid
from infra.local_s3 import DUMMY_CREDENTIALS, LocalS3Server, upload_bundle
from infra.locations import RELEASE_BUNDLE, REPO_ROOT
from infra.ports import free_port

INFRA = REPO_ROOT / "infra"
TEMPLATE = REPO_ROOT / "template.yaml"
SAM = Path(os.environ.get("CXR_SAM", REPO_ROOT / ".venv-sam" / "bin" / "sam"))
FUNCTION_ID = "DiagnosisFunction"
BUCKET = "cxr-local-bundle"
PREFIX = "models/"
"""The stack's ArtifactsPrefix: the bundle goes under <PREFIX><bundle_version>/, as deploy.sh puts it."""
SAM_ENV = {**DUMMY_CREDENTIALS, "SAM_CLI_TELEMETRY": "0"}
"""The SAM CLI must not phone home nor look for real credentials (it hands these to the container)."""

GLIBC_AL2023 = (2, 34)
GLIBCXX_AL2023 = (3, 4, 29)
"""What Amazon Linux 2023 (the python3.13 base image) provides; the Debian stand-in has newer ones."""


def _run(cmd: list[str | Path], timeout: float, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, failing with its output (not just its exit code) when it fails."""
    result = subprocess.run(
        [str(part) for part in cmd], capture_output=True, text=True, timeout=timeout, check=False, **kwargs
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def start_docker() -> bool:
    """Make sure a Docker daemon answers; True when this call started it (so it must stop it)."""
    output = _run([INFRA / "dockerd.sh", "start"], timeout=120).stdout
    return output.strip().startswith("dockerd: started")


def stop_docker() -> None:
    """Stop the daemon that `start_docker` started (dockerd.sh keeps its pid; others are left alone)."""
    _run([INFRA / "dockerd.sh", "stop"], timeout=120)


def build_base_image() -> None:
    """The stand-in for public.ecr.aws/lambda/python (cached; minutes the first time on a machine)."""
    _run([INFRA / "local_base_image.sh"], timeout=1800)


def image_id(tag: str) -> str | None:
    result = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def sam_build(build_dir: Path) -> tuple[Path, str]:
    """`sam build` the deployable template; returns the built template and the function's image tag.

    The previous image under the same tag is removed when the build replaced it, so repeated runs do not
    pile up ~600 MB images.
    """
    tag = _function_image_tag(load_template(TEMPLATE))
    previous = image_id(tag)
    _run(
        [SAM, "build", "--template-file", TEMPLATE, "--build-dir", build_dir],
        timeout=1800,
        cwd=REPO_ROOT,
        env={**os.environ, **SAM_ENV},
    )
    current = image_id(tag)
    if previous and current and previous != current:
        subprocess.run(["docker", "rmi", previous], capture_output=True, check=False)
    return build_dir / "template.yaml", tag


def _function_image_tag(template: dict[str, Any]) -> str:
    metadata = template["Resources"][FUNCTION_ID]["Metadata"]
    return f"{metadata.get('DockerImage', FUNCTION_ID).lower()}:{metadata.get('DockerTag', 'latest')}"


def bridge_address() -> str:
    """IPv4 address of Docker's default bridge on this machine: where the function's container sees us."""
    bridge = (
        _run(
            [
                "docker",
                "network",
                "inspect",
                "bridge",
                "--format",
                '{{index .Options "com.docker.network.bridge.name"}}',
            ],
            timeout=30,
        ).stdout.strip()
        or "docker0"
    )
    output = _run(["ip", "-4", "-o", "addr", "show", "dev", bridge], timeout=30).stdout
    match = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", output)
    if not match:
        raise RuntimeError(f"no IPv4 address on the Docker bridge {bridge}: {output!r}")
    return match.group(1)


def local_template(built: Path, s3_endpoint: str, destination: Path) -> Path:
    """A copy of the built template whose function also gets AWS_ENDPOINT_URL_S3."""
    template = yaml.safe_load(built.read_text())
    variables = template["Resources"][FUNCTION_ID]["Properties"]["Environment"]["Variables"]
    variables["AWS_ENDPOINT_URL_S3"] = s3_endpoint
    destination.write_text(yaml.safe_dump(template, sort_keys=False))
    return destination


def sam_pseudo_stack_id() -> str:
    """The AWS::StackId the SAM CLI gives a template it runs locally (a fixed fake; `--parameter-overrides`
    takes no pseudo parameter), read from the SAM CLI's own code with its own Python."""
    script = (
        "from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import IntrinsicsSymbolTable as T\n"
        "print(T.DEFAULT_PSEUDO_PARAM_VALUES[T.AWS_STACK_ID])"
    )
    return _run([SAM.parent / "python", "-c", script], timeout=60).stdout.strip()


@dataclass
class SamApi:
    """A running `sam local start-api`: its URL, its log, and ways to look inside the function's container."""

    url: str
    log_path: Path
    image_tag: str
    process: subprocess.Popen[bytes]
    s3: LocalS3Server
    origin_verify: str
    """What the template made the function's CXR_ORIGIN_VERIFY (from the AWS::StackId given to SAM)."""

    @property
    def headers(self) -> dict[str, str]:
        """The header CloudFront adds in AWS: without it the function answers 403."""
        return {"x-origin-verify": self.origin_verify}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def containers(self) -> list[str]:
        """Ids of the running containers made from this function's image (SAM's "rapid" derivative)."""
        repository = self.image_tag.split(":")[0]
        output = _run(["docker", "ps", "--format", "{{.ID}} {{.Image}}"], timeout=30).stdout
        return [
            line.split()[0]
            for line in output.splitlines()
            if line.split()[1].startswith(f"{repository}:rapid")
        ]

    def peak_memory(self) -> dict[str, int]:
        """Peak RSS of the function's Python process and the container cgroup's peak, in bytes."""
        (container,) = self.containers()
        script = (
            "for s in /proc/[0-9]*/status; do "
            "  grep -q '^Name:.*python' $s 2>/dev/null && grep '^VmHWM' $s; "
            "done; "
            "cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes 2>/dev/null "
            "|| cat /sys/fs/cgroup/memory.peak 2>/dev/null || true"
        )
        output = _run(["docker", "exec", container, "sh", "-c", script], timeout=30).stdout
        rss_kb = [int(value) for value in re.findall(r"VmHWM:\s+(\d+) kB", output)]
        numbers = [int(line) for line in output.splitlines() if line.strip().isdigit()]
        return {
            "process_peak_rss": max(rss_kb) * 1024 if rss_kb else 0,
            "cgroup_peak": numbers[-1] if numbers else 0,
        }

    def reports(self) -> list[dict[str, float]]:
        """The REPORT lines of the runtime emulator: Duration (ms) per invocation, in order."""
        return [
            {"duration_ms": float(match.group(1))}
            for match in re.finditer(r"REPORT RequestId: \S+.*?\tDuration: ([\d.]+) ms", self.log_text())
        ]


@contextmanager
def sam_local_api(built_template: Path, image_tag: str, workdir: Path, bundle: Path) -> Iterator[SamApi]:
    """S3 server on the bridge holding ``bundle`` + `sam local start-api` on a free loopback port."""
    s3 = LocalS3Server(host=bridge_address()).start()
    process: subprocess.Popen[bytes] | None = None
    log_path = workdir / "sam-local.log"
    try:
        version = json.loads((bundle / "manifest.json").read_text())["bundle_version"]
        upload_bundle(s3.client(), bundle, bucket=BUCKET, prefix=f"{PREFIX}{version}/")
        origin_verify = stack_uuid(sam_pseudo_stack_id())  # what the template makes CXR_ORIGIN_VERIFY
        template = local_template(built_template, s3.endpoint_url, workdir / "template.local.yaml")
        port = free_port()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(SAM),
                    "local",
                    "start-api",
                    "--template-file",
                    str(template),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--skip-pull-image",
                    "--warm-containers",
                    "LAZY",
                    "--parameter-overrides",
                    f"ExistingArtifactsBucket={BUCKET} ArtifactsPrefix={PREFIX} BundleVersion={version}",
                ],
                cwd=workdir,
                env={**os.environ, **SAM_ENV},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for_port(port, process, log_path)
        yield SamApi(f"http://127.0.0.1:{port}", log_path, image_tag, process, s3, origin_verify)
    finally:
        if process is not None:
            _stop_sam(process, image_tag)
        s3.stop()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"sam local start-api exited {process.returncode}:\n{log_path.read_text()[-4000:]}"
            )
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"sam local start-api did not listen on {port} within {timeout} s")


def _stop_sam(process: subprocess.Popen[bytes], image_tag: str) -> None:
    """Ctrl-C, as a person would (SAM then removes its warm containers); force only what remains."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    repository = image_tag.split(":")[0]
    leftovers = _run(["docker", "ps", "-a", "--format", "{{.ID}} {{.Image}}"], timeout=30).stdout
    for line in leftovers.splitlines():
        container, image = line.split()[:2]
        if image.startswith(f"{repository}:rapid"):
            subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
    # SAM rebuilds this emulator layer on every start for image functions; a stale one would keep the
    # previous function image (~600 MB) alive after the next build.
    rapid = _run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", repository], timeout=30).stdout
    for image in rapid.split():
        if image.startswith(f"{repository}:rapid"):
            subprocess.run(["docker", "rmi", image], capture_output=True, check=False)


def glibc_requirements(image_tag: str) -> dict[str, tuple[int, ...]]:
    """Highest GLIBC_ and GLIBCXX_ symbol versions any shared object in the task root asks for.

    The stand-in is Debian (newer glibc than Amazon Linux 2023), so a wheel built for a newer glibc would
    work here and fail in AWS; this makes that visible.
    """
    script = (
        "import json, pathlib, re\n"
        "top = {'GLIBC': (0,), 'GLIBCXX': (0,)}\n"
        "for path in pathlib.Path('/var/task').rglob('*.so*'):\n"
        "    if not path.is_file():\n"
        "        continue\n"
        "    data = path.read_bytes()\n"
        "    if data[:4] != b'\\x7fELF':\n"
        "        continue\n"
        "    for name, version in re.findall(rb'(GLIBCXX|GLIBC)_(\\d+(?:\\.\\d+)+)', data):\n"
        "        key, value = name.decode(), tuple(int(x) for x in version.decode().split('.'))\n"
        "        top[key] = max(top[key], value)\n"
        "print(json.dumps(top))\n"
    )
    output = _run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "/var/lang/bin/python3",
            image_tag,
            "-c",
            script,
        ],
        timeout=300,
    ).stdout
    return {key: tuple(value) for key, value in json.loads(output).items()}


def image_size(tag: str) -> int:
    return int(_run(["docker", "image", "inspect", "--format", "{{.Size}}", tag], timeout=30).stdout.strip())


def _post(api: SamApi, body: dict[str, Any]) -> tuple[int, dict[str, Any], float]:
    import httpx2

    started = time.perf_counter()
    response = httpx2.post(api.url + "/diagnose", json=body, headers=api.headers, timeout=120)
    return response.status_code, response.json(), time.perf_counter() - started


def measure(bundle: Path, radiograph: Path, large_image: Path | None) -> dict[str, Any]:
    """Build from scratch-or-cache and measure: the numbers of docs/benchmarks.md."""
    figures: dict[str, Any] = {}
    started_docker = start_docker()
    try:
        begin = time.perf_counter()
        build_base_image()
        figures["base_image_s"] = round(time.perf_counter() - begin, 1)
        with tempfile.TemporaryDirectory(prefix="cxr-sam-") as scratch:
            workdir = Path(scratch)
            begin = time.perf_counter()
            built, tag = sam_build(workdir / "build")
            figures["sam_build_s"] = round(time.perf_counter() - begin, 1)
            figures["image_bytes"] = image_size(tag)
            figures["base_bytes"] = image_size("public.ecr.aws/lambda/python:3.13")
            figures["glibc"] = {
                key: ".".join(map(str, value)) for key, value in glibc_requirements(tag).items()
            }
            with sam_local_api(built, tag, workdir, bundle) as api:
                body = {"image": base64.b64encode(radiograph.read_bytes()).decode()}
                status, answer, cold = _post(api, body)
                figures["cold_status"] = status
                figures["cold_result"] = answer.get("result")
                figures["cold_client_s"] = round(cold, 3)
                warm = [_post(api, body)[2] for _ in range(20)]
                figures["warm_client_ms_median"] = round(sorted(warm)[len(warm) // 2] * 1000, 1)
                if large_image is not None:
                    status, answer, seconds = _post(
                        api, {"image": base64.b64encode(large_image.read_bytes()).decode()}
                    )
                    figures["large_status"] = status
                    figures["large_result"] = answer.get("result") or answer.get("error", {}).get("code")
                    figures["large_client_s"] = round(seconds, 3)
                figures["reports_ms"] = [report["duration_ms"] for report in api.reports()]
                figures.update(api.peak_memory())
                loaded = re.search(r"bundle loaded .* in ([\d.]+)s", api.log_text())
                figures["bundle_load_s"] = float(loaded.group(1)) if loaded else None
    finally:
        if started_docker:
            stop_docker()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=RELEASE_BUNDLE)
    parser.add_argument("--radiograph", type=Path, required=True, help="a PNG/JPEG radiograph to post")
    parser.add_argument("--large-image", type=Path, help="an image near the upload limits, for peak memory")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.bundle, args.radiograph, args.large_image), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
