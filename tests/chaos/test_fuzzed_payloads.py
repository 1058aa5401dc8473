"""Reliability 5: fuzzed payloads pushed straight onto queues, each followed by a valid job.

Hypothesis draws the payloads (see :mod:`tests.chaos.payloads`); a 64 MB one is added in the middle.
Two workers take them, one forking a child per job and one running jobs in its own process, each from
its own queue holding the whole sequence. Each worker must stay up, record every payload in the failed
list (keeping at most 64 KB of its bytes), import nothing because of one, and run the valid job that
follows each within a second. A probe job writes the worker's ``sys.modules`` before and after, and an
audit hook logs every module any worker process loads once the fuzzing starts.
"""

from __future__ import annotations

import itertools
import json
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings

from resque_impl import Resque
from resque_impl.codec import MAX_NESTING, decode_payload, dumps, loads, nesting
from resque_impl.errors import PayloadDecodeError
from tests.chaos import ledger
from tests.chaos.chaos_jobs import IMPORT_LOG_ENV, LEDGER_ENV, ChaosModules
from tests.chaos.figures import knob, publish, seeded_random
from tests.chaos.payloads import DANGEROUS, huge_string_payload, payloads
from tests.chaos.procs import Procs, durable_redis, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]

PAYLOADS = knob("FUZZ_PAYLOADS", 2000)
QUEUES = {"fuzz-fork": "--fork", "fuzz-no-fork": "--no-fork"}
KEEP = 64 * 1024
#: Exceptions a refused payload is recorded with.
REFUSALS = {"PayloadDecodeError", "NameError"}
#: Payloads before the first probe, so what handling any bad payload loads is loaded before it.
WARM_UP = [b"\xff", b"[]", b'{"class":"Nope","args":[]}', b'{"class":"Nan","args":[NaN]}', b"[" * 5000 + b"]" * 5000]


def _fuzzed(count: int, seed_value: int) -> list[bytes]:
    drawn: list[bytes] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(payloads)
    def draw(raw: bytes) -> None:
        drawn.append(raw)

    draw()
    return drawn


def _modules(path: Path) -> set[str]:
    return set(path.read_text().split()) if path.exists() else set()


def _expected_payload(raw: bytes) -> Any:
    """What the failure record's ``payload`` should hold for ``raw``: the payload object when it is one,
    or the JSON object as Ruby reads it when it names a class (its ``args`` not a list), if writable back
    as JSON, shallow enough for Ruby to read inside a record, and at most 64 KB; else its bytes as text,
    cut to 64 KB."""
    as_text = raw[:KEEP].decode("utf-8", "replace")
    try:
        body = decode_payload(raw).to_dict()
    except PayloadDecodeError:
        try:
            body = loads(raw)
        except ValueError:
            return as_text
        if not (isinstance(body, dict) and isinstance(body.get("class"), str) and body["class"]):
            return as_text
    try:
        dumps(body)
    except ValueError:
        return as_text
    return body if len(raw) <= KEEP and nesting(body) < MAX_NESTING else as_text


def _same(record_payload: Any, expected: Any) -> bool:
    if isinstance(expected, str):
        return record_payload == expected
    # Compare as JSON text: NaN never equals itself, and key order is not the point here.
    return bool(json.dumps(record_payload, sort_keys=True) == json.dumps(expected, sort_keys=True))


@dataclass
class Outcome:
    fuzz: list[bytes]
    records: dict[str, list[tuple[bytes, dict[str, Any]]]]
    canaries: dict[str, list[ledger.Execution]]
    new_modules: dict[str, set[str]]
    loaded_later: list[str]
    alive: dict[str, bool]
    exit_codes: dict[str, int]


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    rng, seed_value = seeded_random("fuzz")
    tmp = tmp_path_factory.mktemp("fuzz")
    fuzz = _fuzzed(PAYLOADS, seed_value)
    fuzz.insert(rng.randrange(len(fuzz) + 1), huge_string_payload())
    path, imports = tmp / "ledger", tmp / "imports"
    started = time.monotonic()
    with durable_redis() as server, Procs(tmp, {LEDGER_ENV: str(path), IMPORT_LOG_ENV: str(imports)}) as procs:
        resque = Resque(server.url)
        client = server.client()
        for queue in QUEUES:
            client.rpush(f"resque:queue:{queue}", *WARM_UP)
            resque.enqueue_to(queue, ChaosModules, str(tmp / f"{queue}.before"))
        workers = {
            queue: procs.worker(queue, server.url, queue, "--interval", "0.2", QUEUES[queue]) for queue in QUEUES
        }
        wait_for(lambda: all((tmp / f"{queue}.before").exists() for queue in QUEUES), "the first probes", 60)
        imports_before = len(imports.read_text().splitlines()) if imports.exists() else 0
        for queue in QUEUES:
            with client.pipeline(transaction=False) as pipe:
                for number, raw in enumerate(fuzz):
                    pipe.rpush(f"resque:queue:{queue}", raw)
                    pipe.rpush(f"resque:queue:{queue}", dumps({"class": "ChaosWork", "args": [f"{queue}-{number}", 0]}))
                pipe.execute()
            resque.enqueue_to(queue, ChaosModules, str(tmp / f"{queue}.after"))
        wait_for(lambda: all((tmp / f"{queue}.after").exists() for queue in QUEUES), "the last probes", 600, poll=0.5)
        alive = {queue: worker.running() for queue, worker in workers.items()}
        all_records = [(record.raw, record.data) for record in resque.failures.all()]
        for worker in workers.values():
            worker.signal(signal.SIGTERM)
        codes = {queue: worker.wait(30) for queue, worker in workers.items()}
    runs = ledger.read(path)
    result = Outcome(
        fuzz,
        {queue: [item for item in all_records if item[1].get("queue") == queue][len(WARM_UP) :] for queue in QUEUES},
        {queue: [run for run in runs if run.job.startswith(f"{queue}-")] for queue in QUEUES},
        {queue: _modules(tmp / f"{queue}.after") - _modules(tmp / f"{queue}.before") for queue in QUEUES},
        imports.read_text().splitlines()[imports_before:] if imports.exists() else [],
        alive,
        codes,
    )
    figures: dict[str, Any] = {
        "seed": seed_value,
        "payloads": len(fuzz),
        "seconds": round(time.monotonic() - started, 1),
    }
    for queue in QUEUES:
        gaps = _gaps(result.canaries[queue])
        figures[queue] = {
            "failure_records": len(result.records[queue]),
            "largest_record_bytes": max((len(raw) for raw, _ in result.records[queue]), default=0),
            "records_not_keeping_their_payload": _mismatched(result, queue)[:10],
            "exceptions": dict(Counter(data.get("exception") for _, data in result.records[queue])),
            "valid_jobs_run": len(result.canaries[queue]),
            "next_valid_job_gap_p50_s": round(ledger.percentile(gaps, 0.5) or 0.0, 3),
            "next_valid_job_gap_max_s": round(max(gaps, default=0.0), 3),
            "modules_new_after_fuzzing": sorted(result.new_modules[queue]),
            "worker_alive": alive[queue],
            "exit_code": codes[queue],
        }
    figures["modules_loaded_by_any_worker_process_while_fuzzing"] = result.loaded_later[:50]
    publish(
        "fuzzed_payloads",
        figures,
        " ".join(
            f"{queue}: {figures[queue]['failure_records']} failures, next valid job within "
            f"{figures[queue]['next_valid_job_gap_max_s']} s, alive {alive[queue]};"
            for queue in QUEUES
        ),
    )
    return result


def _gaps(canaries: list[ledger.Execution]) -> list[float]:
    """Seconds from each valid job's end to the next one's start: the bad payload between them."""
    ordered = sorted(canaries, key=lambda run: run.begin)
    return [later.begin - (earlier.end or earlier.begin) for earlier, later in itertools.pairwise(ordered)]


def _mismatched(outcome: Outcome, queue: str) -> list[dict[str, Any]]:
    found = []
    for number, (raw, (_, data)) in enumerate(zip(outcome.fuzz, outcome.records[queue], strict=False)):
        if data.get("exception") not in REFUSALS or not _same(data.get("payload"), _expected_payload(raw)):
            found.append(
                {
                    "number": number,
                    "payload": raw[:200].decode("utf-8", "backslashreplace"),
                    "recorded": str(data.get("payload"))[:200],
                    "exception": data.get("exception"),
                    "error": str(data.get("error"))[:200],
                }
            )
    return found


@pytest.mark.parametrize("queue", QUEUES)
def test_the_worker_never_exits(outcome: Outcome, queue: str) -> None:
    assert outcome.alive[queue]
    assert outcome.exit_codes[queue] == 0


@pytest.mark.parametrize("queue", QUEUES)
def test_every_payload_lands_in_the_failed_list_keeping_at_most_64_kb_of_it(outcome: Outcome, queue: str) -> None:
    assert len(outcome.records[queue]) == len(outcome.fuzz)
    assert _mismatched(outcome, queue) == []
    assert max(len(raw) for raw, _ in outcome.records[queue]) <= 4 * KEEP


@pytest.mark.parametrize("queue", QUEUES)
def test_no_module_is_imported_because_of_a_payload(outcome: Outcome, queue: str) -> None:
    assert outcome.new_modules[queue] == set()


def test_no_worker_process_loads_any_module_while_fuzzed(outcome: Outcome) -> None:
    assert outcome.loaded_later == []
    assert not {line.split()[-1] for line in outcome.loaded_later} & set(DANGEROUS)


@pytest.mark.parametrize("queue", QUEUES)
def test_the_next_valid_job_runs_within_a_second(outcome: Outcome, queue: str) -> None:
    assert len(outcome.canaries[queue]) == len(outcome.fuzz)
    assert max(_gaps(outcome.canaries[queue])) <= 1.0
