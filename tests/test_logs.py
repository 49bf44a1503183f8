"""The shop's logging: one format for every process, with the running job's name and id."""

import logging
import re

import pytest

from shop import logs
from job_runtime.models import JobRecord
from tests.conftest import wait_for

LINE = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} %s %s \[%s\]: %s"


def shop_handlers():
    return [h for h in logging.getLogger().handlers if getattr(h, "shop_handler", False)]


def test_the_set_up_adds_one_handler_however_often_it_runs(app_env):
    logs.setup_logging("INFO")
    logs.setup_logging("DEBUG")
    assert len(shop_handlers()) == 1 and logging.getLogger().level == logging.DEBUG
    logs.setup_logging(app_env.environ.get("LOG_LEVEL", "INFO").upper())


def test_a_line_outside_a_job_says_so(app_env, capsys):
    logs.setup_logging("INFO")
    logging.getLogger("shop.example").warning("the disk is %s", "full")
    assert re.search(LINE % ("WARNING", r"shop\.example", "-", "the disk is full"), capsys.readouterr().err)


@pytest.mark.consumer
def test_a_real_consumer_writes_the_shops_lines_with_the_job_name_and_id(consumer):
    from tests.sample_jobs import say

    process = consumer(workers=1)
    uuid = say.dispatch("hello")
    wait_for(lambda: JobRecord.get(JobRecord.uuid == uuid).state == "completed", timeout=30,
             message="the job to complete")
    wait_for(lambda: "completed in" in process.output(), timeout=10, message="the outcome line")
    output = process.output()
    job = f"say {uuid}"
    assert re.search(LINE % ("INFO", r"tests\.sample_jobs", job, "saying hello"), output), output
    assert re.search(LINE % ("WARNING", r"tests\.sample_jobs", job, "warning about hello"), output), output
    # One line per outcome, at INFO, with the job named in its fields too.
    completed = re.findall(LINE % ("INFO", r"job_runtime\.runner", job, rf"job say \({uuid}\) completed in .*"),
                           output)
    assert len(completed) == 1, output
    assert output.count("saying hello") == 1  # no line written twice
    assert output.count("Huey consumer started") == 1
