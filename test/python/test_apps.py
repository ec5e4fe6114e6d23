"""Every synthesized app imports with the real `modal` package, offline, and matches the manifest.

What modal exposes offline is read through its private app state (`_local_state`, `_spec_`), because
modal 1.6 deprecated the public `registered_*` properties; modal is pinned in requirements-test.txt.
What a local App keeps only in its deploy loader (snapshots, timeouts) is read from that closure.
"""

import os


def test_no_modal_token_is_available():
    assert "MODAL_TOKEN_ID" not in os.environ
    assert not os.path.exists(os.environ["MODAL_CONFIG_PATH"])


def test_app_name_class_and_web_endpoint(app_case):
    entry, module = app_case
    app = module.app
    assert app.name == entry["modalName"]
    state = app._local_state
    assert list(state.classes) == ["ComfyUI"]
    # The synchronous URL is the GPU class's; the job front door (ComfyApp jobs) has its own.
    assert state.web_endpoints == ["ComfyUI.fastapi_app", *(["jobs_api"] if entry["jobs"] else [])]


def test_the_job_front_door_has_no_gpu_and_spawns_onto_the_gpu_class(app_case):
    """Polling never wakes a GPU: the job routes are a small CPU function (no GPU, one container so its
    queue limit is exact, only the results mount and, for a bucket, its Secret) with the same proxy auth;
    the work is the GPU class's run_job method, and the job store is a modal.Dict of the app's own name."""
    entry, module = app_case
    partials = module.app._local_state.classes["ComfyUI"]._get_partial_functions()
    if not entry["jobs"]:
        assert "jobs_api" not in module.app._local_state.functions and "run_job" not in partials
        return
    front = module.app._local_state.functions["jobs_api"]
    assert front._spec_.gpus is None
    assert_results_mount(entry, module, front._spec_, read_only=True)
    results = entry["jobs"]["results"]
    assert [s._name for s in front._spec_.secrets] == ([results["secret"]] if results["kind"] == "bucket" else [])
    assert (front._spec_.cpu, front._spec_.memory) == (0.25, 256)
    load = front._load
    settings = dict(zip(load.__code__.co_freevars, (cell.cell_contents for cell in load.__closure__)))
    assert settings["max_containers"] == 1
    assert front._webhook_config.requires_proxy_auth is entry["requiresProxyAuth"]
    assert "run_job" in partials and partials["run_job"].params.webhook_config is None
    assert module.JOBS_DICT_NAME == f"{entry['modalName']}-jobs"
    assert (module.JOBS_MAX_ACTIVE, module.JOBS_KEEP_SECONDS) == (
        entry["jobs"]["maxActive"],
        entry["jobs"]["keepSeconds"],
    )


def assert_results_mount(entry, module, spec, read_only):
    """Job outputs are mounted at /results: the app's Volume (named in the manifest), or the team's bucket
    through a CloudBucketMount with its Secret, key prefix and endpoint (read-only for the front door)."""
    import modal

    results = entry["jobs"]["results"]
    mount = spec.volumes["/results"]
    if results["kind"] == "volume":
        assert (
            not hasattr(mount, "bucket_name") and mount.name == results["name"] == f"{entry['modalName']}-job-results"
        )
        return
    assert (mount.bucket_name, mount.key_prefix, mount.bucket_endpoint_url, mount.read_only) == (
        results["bucket"],
        results["prefix"],
        results["endpointUrl"],
        read_only,
    )
    assert mount.secret._name == results["secret"]


def test_gpu_volumes_and_secrets(app_case):
    entry, module = app_case
    spec = module.app._local_state.functions["ComfyUI.*"]._spec_
    assert spec.gpus == entry["gpu"]
    volumes = {path: volume for path, volume in spec.volumes.items() if path != "/results"}
    assert {path: volume.name for path, volume in volumes.items()} == {
        v["mountPath"]: v["name"] for v in entry["volumes"]
    }
    assert ("/results" in spec.volumes) is bool(entry["jobs"])
    if entry["jobs"]:
        assert_results_mount(entry, module, spec, read_only=False)
    assert sorted(s._name for s in spec.secrets) == entry["secrets"]


def test_expired_results_are_swept_by_the_hour_from_a_volume_only(app_case):
    """A Volume's expired outputs are deleted by a small scheduled CPU function with the Volume mounted; a
    bucket's by its lifecycle rule (no function)."""
    import modal

    entry, module = app_case
    sweep = module.app._local_state.functions.get("sweep_results")
    if not entry["jobs"] or entry["jobs"]["results"]["kind"] == "bucket":
        assert sweep is None
        return
    assert sweep._spec_.gpus is None and list(sweep._spec_.volumes) == ["/results"]
    settings = dict(zip(sweep._load.__code__.co_freevars, (c.cell_contents for c in sweep._load.__closure__)))
    assert isinstance(settings["schedule"], modal.Cron)


def test_web_endpoint_auth(app_case):
    entry, module = app_case
    functions = module.app._local_state.classes["ComfyUI"]._get_partial_functions()
    assert functions["fastapi_app"].params.webhook_config.requires_proxy_auth is entry["requiresProxyAuth"]


def test_endpoints_table_matches_manifest(app_case):
    entry, module = app_case
    assert sorted(module.ENDPOINTS) == sorted(e["path"] for e in entry["endpoints"])
    for endpoint in entry["endpoints"]:
        spec = module.ENDPOINTS[endpoint["path"]]
        assert spec["output_node"] == endpoint["outputNode"]
        assert spec["timeout_seconds"] == endpoint["timeoutSeconds"]
        assert spec["content_type"] == endpoint["contentType"]
        assert [f["name"] for f in spec["fields"]] == [f["name"] for f in endpoint["fields"]]


def deploy_settings(module):
    """The settings modal builds the class's function definition from at deploy: its loader's closure (the
    only place a local App keeps them; modal is pinned in requirements-test.txt)."""
    load = module.app._local_state.functions["ComfyUI.*"]._load
    return dict(zip(load.__code__.co_freevars, (cell.cell_contents for cell in load.__closure__)))


def test_memory_snapshot_and_start_phases(app_case):
    """With memorySnapshot: snapshots on, ComfyUI started before the snapshot and given the GPU after each
    restore, in that order; GPU snapshots only with gpuSnapshot. Without: one start after the container's."""
    from modal._partial_function import _PartialFunctionFlags as Flags

    entry, module = app_case
    settings = deploy_settings(module)
    assert settings["enable_memory_snapshot"] is entry["memorySnapshot"]
    expected_options = {"enable_gpu_snapshot": "True"} if entry["gpuSnapshot"] else {}
    assert {k: str(v) for k, v in settings["experimental_options"].items()} == expected_options
    assert settings["timeout"] == entry["timeoutSeconds"]
    assert settings["startup_timeout"] == entry["startupTimeoutSeconds"]
    functions = module.app._local_state.classes["ComfyUI"]._get_partial_functions()
    phases = {
        flag: [name for name, f in functions.items() if f.flags & flag]
        for flag in (Flags.ENTER_PRE_SNAPSHOT, Flags.ENTER_POST_SNAPSHOT)
    }
    if entry["memorySnapshot"]:
        assert phases == {
            Flags.ENTER_PRE_SNAPSHOT: ["start_for_snapshot"],
            Flags.ENTER_POST_SNAPSHOT: ["after_restore"],
        }
    else:
        assert phases == {Flags.ENTER_PRE_SNAPSHOT: [], Flags.ENTER_POST_SNAPSHOT: ["start"]}


def test_warm_schedule_functions_run_on_the_cpu_on_their_cron(app_case):
    """Each warmSchedule entry is a CPU function with its Modal Cron (time zone included); the GPU class
    gets buffer_containers; an app without a schedule has no other function."""
    entry, module = app_case
    functions = module.app._local_state.functions
    schedules = [f"warm_schedule_{i}" for i in range(len(entry["warmSchedule"]))]
    jobs = entry["jobs"]
    sweep = ["sweep_results"] if jobs and jobs["results"]["kind"] == "volume" else []
    assert sorted(functions) == sorted(["ComfyUI.*", *(["jobs_api"] if jobs else []), *sweep, *schedules])
    for i, planned in enumerate(entry["warmSchedule"]):
        function = functions[f"warm_schedule_{i}"]
        load = function._load
        settings = dict(zip(load.__code__.co_freevars, (cell.cell_contents for cell in load.__closure__)))
        cron = settings["schedule"].proto_message.cron
        assert (cron.cron_string, cron.timezone) == (planned["cron"], planned["timezone"])
        assert function._spec_.gpus is None  # a schedule never holds a GPU
    assert deploy_settings(module)["buffer_containers"] == (entry["bufferContainers"] or None)
