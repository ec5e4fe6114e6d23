"""The job list (`GET /jobs`) and queue positions, a part of the job routes' logic (jobs.Jobs mixes it in):
job ids in submit order kept in the store as an index of bounded pages, read newest first, at most so many
records per answer, continued by a cursor."""

from job_states import CANCELING, FINAL, QUEUED, RUNNING, field_problem

# The list's index: job ids in submit order, in pages of this many (one bounded store value each).
INDEX_PAGE = 1000
# GET /jobs: entries per answer (default, most), and job records one answer reads at most (then a cursor).
LIST_LIMIT, LIST_LIMIT_MAX, LIST_SCAN_MAX = 20, 100, 1000


class JobList:
    """GET /jobs and queue_position over the Jobs' store (`self.store`, `self.record`, `self.public`)."""

    def index(self, job_id):
        """Append a new job to the list's index: pages of INDEX_PAGE ids, the newest page `index:head`."""
        head = self.store.get("index:head") or 0
        page = self.store.get(f"index:{head}") or []
        if len(page) >= INDEX_PAGE:
            head, page = head + 1, []
        self.store.put(f"index:{head}", [*page, job_id], 2 * self.keep_seconds)
        self.store.put("index:head", head, 2 * self.keep_seconds)

    def list(self, status=None, endpoint=None, metadata=None, limit=None, cursor=None):
        """(HTTP status, body) for GET /jobs: `{"jobs": [summaries, newest first], "next_cursor": …}`, each
        summary as GET /jobs/{id} shows the job, filtered by status (as shown: `canceling` too), endpoint
        and metadata (every key: value given). At most `limit` entries and LIST_SCAN_MAX records read per
        answer; `next_cursor` (None at the end) continues where it stopped. 422 naming a bad parameter."""
        limit = LIST_LIMIT if limit in (None, "") else limit
        if not (isinstance(limit, int) or str(limit).isdigit()) or not 1 <= int(limit) <= LIST_LIMIT_MAX:
            return field_problem(
                "Bad list parameter",
                "limit",
                f"expected 1 to {LIST_LIMIT_MAX}",
                detail=f"limit: got {limit!r}, expected a whole number from 1 to {LIST_LIMIT_MAX}",
            )
        limit = int(limit)
        statuses = (QUEUED, RUNNING, CANCELING, *FINAL)
        if status is not None and status not in statuses:
            return field_problem(
                "Bad list parameter",
                "status",
                f"expected one of {', '.join(statuses)}",
                detail=f"status: got {status!r}, expected one of {', '.join(statuses)}",
            )
        head = self.store.get("index:head") or 0
        if cursor:
            page_text, _, at_text = cursor.partition(".")
            if not (page_text.isdigit() and at_text.isdigit()) or int(page_text) > head:
                return field_problem(
                    "Bad list parameter",
                    "cursor",
                    "not a cursor of this list",
                    detail=f"cursor: got {cursor!r}, expected a next_cursor this list gave",
                )
            page_number, at = int(page_text), int(at_text)
        else:
            page_number, at = head, None
        jobs, scanned = [], 0
        while page_number >= 0:
            page = self.store.get(f"index:{page_number}") or []
            position = len(page) if at is None else min(at, len(page))
            for i in range(position - 1, -1, -1):
                if scanned >= LIST_SCAN_MAX or len(jobs) >= limit:
                    return 200, {"jobs": jobs, "next_cursor": f"{page_number}.{i + 1}"}
                scanned += 1
                record = self.record(page[i])
                if record is None:
                    continue  # expired
                shown = self.public(record)
                if status is not None and shown["status"] != status:
                    continue
                if endpoint is not None and shown["endpoint"] != endpoint:
                    continue
                if metadata and any((record.get("metadata") or {}).get(k) != v for k, v in metadata.items()):
                    continue
                jobs.append(shown)
            page_number, at = page_number - 1, None
        return 200, {"jobs": jobs, "next_cursor": None}

    def queue_position(self, job_id):
        """1 + this app's jobs submitted before it and still queued (1: it runs next). On Modal, where
        several containers take jobs at once, an upper bound."""
        active = self.store.get("active") or []
        ahead = active[: active.index(job_id)] if job_id in active else []
        return 1 + sum(1 for j in ahead if (r := self.store.get(f"job:{j}")) and r["status"] == QUEUED)
