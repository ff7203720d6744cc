"""Checks for the Meltano end-to-end suite (tests/e2e/meltano.sh).

Each subcommand checks one thing, prints what it checked and exits 1 with a
line starting with FAIL on the first mismatch. Expected values come from the
stand-in's live dataset (GET /__standin/dataset), so they follow every change
the suite makes through the admin API.

`make-project` and `check-about` need PyYAML, which the Meltano virtual
environment has. `check-db duckdb` needs the duckdb package of the
target-duckdb environment. The rest need only the standard library.
"""

import argparse
import collections
import datetime
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

STREAMS = ("checks", "pings", "flips", "integrations")

# Primary key columns of each table, in key order, as the tap declares them.
KEYS = {
    "checks": ["unique_key"],
    "pings": ["check_unique_key", "n"],
    "flips": ["check_unique_key", "timestamp", "sequence"],
    "integrations": ["id"],
}

DATE_TIME_COLUMNS = [("pings", "date"), ("flips", "timestamp"), ("checks", "last_ping")]
INTEGER_COLUMNS = [("pings", "n"), ("checks", "grace")]

# Meltano setting kinds that carry each JSON type of the tap's --about.
# Numbers map to integer because of the Meltano decimal note in meltano.yml.
KINDS_FOR_TYPE = {
    "string": {"string", "options", "date_iso8601"},
    "integer": {"integer"},
    "number": {"integer"},
    "boolean": {"boolean"},
}


class CheckFailed(Exception):
    """A mismatch found by a check; the message states what was expected."""


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def passed(message):
    print(f"  ok: {message}")


# The stand-in's dataset


def fetch_dataset(url):
    with urllib.request.urlopen(f"{url}/__standin/dataset", timeout=10) as response:
        return json.load(response)


def listed_pings(project, check):
    """Return the pings the API lists for a check: the newest ping_log_limit."""
    limit = min(project.get("ping_log_limit", 100), 1000)
    return check["pings"][-limit:] if limit else []


def expected_counts(dataset):
    """Return the rows per stream that a full sync with the project 0 key writes."""
    project = dataset["projects"][0]
    checks = project["checks"]
    return {
        "checks": len(checks),
        "pings": sum(len(listed_pings(project, check)) for check in checks),
        "flips": sum(len(check["flips"]) for check in checks),
        "integrations": len(project["channels"]),
    }


def to_utc(value):
    """Normalize a date-time from JSON or a database to a naive UTC datetime.

    Naive values are read as UTC, which is what the tap writes.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace(" ", "T")
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        # psql prints offsets as +00 or +05:30, which fromisoformat in Python
        # 3.11 reads only in the +HH:MM form.
        if len(text) > 3 and text[-3] in "+-" and text[-3:].lstrip("+-").isdigit():
            text += ":00"
        value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def expected_date_times(dataset):
    """Return the date-time values a full sync loads, per table, as multisets."""
    project = dataset["projects"][0]
    values = {table: collections.Counter() for table, _ in DATE_TIME_COLUMNS}
    for check in project["checks"]:
        uuid = check["uuid"]
        values["checks"][(uuid, to_utc(check["last_ping"]))] += 1
        for ping in listed_pings(project, check):
            values["pings"][(uuid, ping["n"], to_utc(ping["date"]))] += 1
        for flip in check["flips"]:
            values["flips"][(uuid, to_utc(flip["timestamp"]))] += 1
    return values


# Meltano project and plugin definitions


def make_project(args):
    """Write the test project's meltano.yml from the repository's.

    The extractor and each loader keep their definitions but run the given
    executables, and the loaders lose pip_url, so that Meltano installs
    nothing and runs the virtual environments of this suite.
    """
    import yaml

    project = yaml.safe_load(Path(args.source).read_text())
    loaders = dict(item.split("=", 1) for item in args.loader)
    for extractor in project["plugins"]["extractors"]:
        if extractor["name"] == "tap-healthchecks":
            extractor["executable"] = args.tap
    for loader in project["plugins"]["loaders"]:
        if loader["name"] in loaders:
            loader.pop("pip_url", None)
            loader["executable"] = loaders[loader["name"]]
    Path(args.dest).write_text(yaml.safe_dump(project, sort_keys=False))
    print(f"  wrote {args.dest} with tap {args.tap}")


def check_about(args):
    """Compare meltano.yml's extractor with the tap's --about --format json."""
    import yaml

    about = json.loads(Path(args.about).read_text())
    project = yaml.safe_load(Path(args.meltano_yml).read_text())
    extractor = next(
        plugin
        for plugin in project["plugins"]["extractors"]
        if plugin["name"] == "tap-healthchecks"
    )

    declared = set(extractor["capabilities"])
    advertised = set(about["capabilities"])
    require(
        declared <= advertised,
        f"meltano.yml declares capabilities the tap does not advertise: "
        f"{sorted(declared - advertised)}",
    )
    for capability in ("catalog", "discover", "state"):
        require(capability in declared, f"meltano.yml lacks capability {capability!r}")
    passed(f"capabilities {sorted(declared)} are all advertised by --about")

    properties = about["settings"]["properties"]
    settings = {setting["name"]: setting for setting in extractor["settings"]}
    require(
        set(settings) == set(properties),
        f"settings differ: only in meltano.yml {sorted(set(settings) - set(properties))}, "
        f"only in --about {sorted(set(properties) - set(settings))}",
    )
    for name, schema in properties.items():
        types = [kind for kind in schema["type"] if kind != "null"]
        kind = settings[name].get("kind", "string")
        require(
            kind in KINDS_FOR_TYPE[types[0]],
            f"setting {name}: kind {kind!r} in meltano.yml does not fit type {types[0]!r}",
        )
        sensitive = settings[name].get("sensitive", False)
        require(
            sensitive == schema.get("secret", False),
            f"setting {name}: sensitive is {sensitive} in meltano.yml but secret is "
            f"{schema.get('secret', False)} in --about",
        )
    passed(f"{len(settings)} settings match --about in name, kind and sensitivity")


def check_config(args):
    """Check the config file Meltano hands to the tap (meltano invoke --dump=config)."""
    config = json.loads(Path(args.dump).read_text())
    require(
        config.get("base_url") == args.base_url,
        f"base_url is {config.get('base_url')!r}, expected the stand-in {args.base_url}",
    )
    require(
        config.get("api_key") == os.environ["E2E_API_KEY"],
        "api_key in the config is not the fixture's read-write key",
    )
    passed(f"Meltano passes base_url {args.base_url} and the api_key from {args.key_source}")


def check_select(args):
    """Check `meltano select --list --all`: the four streams, keys automatic."""
    fields = collections.defaultdict(dict)
    for line in Path(args.listing).read_text().splitlines():
        line = line.strip()
        if not line.startswith("[") or "]" not in line:
            continue
        status, name = line[1:].split("]", 1)
        stream, _, field = name.strip().partition(".")
        fields[stream][field] = status.strip()
    # ping_bodies is discovered but left out by the select rules of meltano.yml.
    discovered = set(STREAMS) | {"ping_bodies"}
    require(
        set(fields) == discovered,
        f"streams listed: {sorted(fields)}, expected {sorted(discovered)}",
    )
    excluded = {status for status in fields["ping_bodies"].values()} - {"automatic"}
    require(excluded == {"excluded"}, f"ping_bodies fields are {excluded}, expected excluded")
    for stream, keys in KEYS.items():
        for key in keys:
            require(
                fields[stream].get(key) == "automatic",
                f"{stream}.{key} is {fields[stream].get(key)!r}, expected automatic",
            )
    counts = ", ".join(f"{stream} {len(fields[stream])}" for stream in STREAMS)
    passed(
        f"discovery lists the five streams (fields: {counts}); key fields are automatic; "
        "ping_bodies is not selected"
    )


# target-jsonl runs


def read_jsonl(folder, stream):
    path = Path(folder) / f"{stream}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def check_jsonl_full(args):
    """Check that a first run wrote every row of the dataset."""
    expected = expected_counts(fetch_dataset(args.url))
    for stream in STREAMS:
        rows = len(read_jsonl(args.dir, stream))
        require(rows == expected[stream], f"{stream}: {rows} rows, expected {expected[stream]}")
    passed("rows per stream equal the dataset: " + describe(expected))


def check_jsonl_incremental(args):
    """Check a run with Meltano's state: only the new pings, full-table streams whole."""
    expected = expected_counts(fetch_dataset(args.url))
    written = {stream: read_jsonl(args.dir, stream) for stream in STREAMS}
    for stream in ("checks", "integrations"):
        rows = len(written[stream])
        require(
            rows == expected[stream],
            f"{stream} (full table): {rows} rows, expected {expected[stream]}",
        )
    new_pings = json.loads(args.new_pings)
    got = sorted((ping["check_uuid"], ping["n"]) for ping in written["pings"])
    want = sorted((ping["check"], n) for ping in new_pings for n in ping["n"])
    require(
        got == want,
        f"pings written: {len(got)} {got[:5]}, expected exactly {len(want)} {want}",
    )
    pings = "exactly the new ones" if want else "none"
    passed(
        f"{len(got)} pings written ({pings}); checks {len(written['checks'])} and "
        f"integrations {len(written['integrations'])} written whole; "
        f"{len(written['flips'])} flips written"
    )


def check_state(args):
    """Check the state Meltano stored: one pings bookmark per pinged check, at its newest n."""
    dataset = fetch_dataset(args.url)
    project = dataset["projects"][0]
    unique_keys = {row["uuid"]: row["unique_key"] for row in read_jsonl(args.checks_dir, "checks")}
    expected = {}
    for check in project["checks"]:
        pings = listed_pings(project, check)
        if pings:
            expected[unique_keys[check["uuid"]]] = max(ping["n"] for ping in pings)

    stored = json.loads(Path(args.state).read_text())
    require("singer_state" in stored, f"no singer_state in {args.state}")
    bookmarks = stored["singer_state"].get("bookmarks", {})
    partitions = bookmarks.get("pings", {}).get("partitions", [])
    got = {
        partition["context"]["check_unique_key"]: partition["replication_key_value"]
        for partition in partitions
    }
    require(
        got == expected,
        f"pings bookmarks {got}, expected the newest n of each check {expected}",
    )
    flips = bookmarks.get("flips", {}).get("partitions", [])
    require(flips, "the stored state has no flips bookmarks")
    passed(
        f"stored state has {len(got)} pings bookmarks at each check's newest n "
        f"and {len(flips)} flips bookmarks"
    )


def add_pings(args):
    """Append pings to one check through the admin API; print their uuid and n as JSON."""
    before = fetch_dataset(args.url)["projects"][0]["checks"][args.check_index]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    pings = [
        {"type": "success", "date": (now - datetime.timedelta(minutes=args.count - i)).isoformat()}
        for i in range(args.count)
    ]
    body = json.dumps({"check": before["uuid"], "pings": pings}).encode()
    request = urllib.request.Request(
        f"{args.url}/__standin/pings",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass
    after = fetch_dataset(args.url)["projects"][0]["checks"][args.check_index]
    new = [ping["n"] for ping in after["pings"][len(before["pings"]) :]]
    require(len(new) == args.count, f"the admin API added {len(new)} pings, not {args.count}")
    print(json.dumps([{"check": before["uuid"], "n": new}]))


def delete_check(args):
    """Delete one check through the admin API; print its uuid."""
    uuid = fetch_dataset(args.url)["projects"][0]["checks"][args.check_index]["uuid"]
    request = urllib.request.Request(f"{args.url}/__standin/checks/{uuid}", method="DELETE")
    with urllib.request.urlopen(request, timeout=10):
        pass
    print(uuid)


def describe(counts):
    return ", ".join(f"{stream} {counts[stream]}" for stream in STREAMS)


# Databases


class Postgres:
    """A PostgreSQL database queried through psql, which returns every value as text or None."""

    name = "PostgreSQL"

    def __init__(self, psql, schema):
        self.psql = psql
        self.schema = schema

    def query(self, sql):
        output = subprocess.run(
            [self.psql, "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PGTZ": "UTC"},
        ).stdout
        return [
            tuple(None if cell == "" else cell for cell in line.split("\t"))
            for line in output.splitlines()
        ]

    def table(self, table):
        return f'"{self.schema}"."{table}"'

    def primary_key(self, table):
        rows = self.query(
            "SELECT k.column_name FROM information_schema.table_constraints c "
            "JOIN information_schema.key_column_usage k "
            "ON k.constraint_schema = c.constraint_schema "
            "AND k.constraint_name = c.constraint_name "
            f"WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = '{self.schema}' "
            f"AND c.table_name = '{table}' ORDER BY k.ordinal_position"
        )
        return [row[0] for row in rows]


class DuckDb:
    """A DuckDB file opened read-only through the duckdb package."""

    name = "DuckDB"

    def __init__(self, path, schema):
        import duckdb

        self.connection = duckdb.connect(path, read_only=True)
        # target-duckdb names the database after the file, so a schema of the
        # same name needs the database in front of it.
        self.database = self.connection.execute("SELECT current_database()").fetchone()[0]
        self.schema = schema

    def query(self, sql):
        return self.connection.execute(sql).fetchall()

    def table(self, table):
        return f'"{self.database}"."{self.schema}"."{table}"'

    def primary_key(self, table):
        rows = self.query(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            f"WHERE constraint_type = 'PRIMARY KEY' AND schema_name = '{self.schema}' "
            f"AND table_name = '{table}'"
        )
        return list(rows[0][0]) if rows else []


def column_types(db, table):
    rows = db.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        f"WHERE table_schema = '{db.schema}' AND table_name = '{table}'"
    )
    return {name: data_type.lower() for name, data_type in rows}


def check_db(args):
    """Check a full load: row counts, primary keys, column types and date-time values."""
    if args.engine == "postgres":
        db = Postgres(args.psql, args.schema)
        # NOTE: meltanolabs-target-postgres 0.8.1 creates every date-time column
        # as timestamp without time zone, so check_date_times compares the
        # values in UTC to catch a shifted time zone.
        date_time_types = {"timestamp with time zone", "timestamp without time zone"}
        integer_types = {"bigint"}
    else:
        db = DuckDb(args.path, args.schema)
        date_time_types = {"timestamp with time zone", "timestamp"}
        integer_types = {"bigint", "hugeint"}
    dataset = fetch_dataset(args.url)
    expected = expected_counts(dataset)

    for stream in STREAMS:
        rows = int(db.query(f"SELECT count(*) FROM {db.table(stream)}")[0][0])
        require(rows == expected[stream], f"{stream}: {rows} rows, expected {expected[stream]}")
    passed("rows per table equal the dataset: " + describe(expected))

    for stream, keys in KEYS.items():
        key = db.primary_key(stream)
        require(key == keys, f"{stream}: primary key {key}, expected {keys}")
    passed("primary keys: " + "; ".join(f"{s} ({', '.join(k)})" for s, k in KEYS.items()))

    types = {stream: column_types(db, stream) for stream in STREAMS}
    for table, column in DATE_TIME_COLUMNS:
        found = types[table].get(column)
        require(found in date_time_types, f"{table}.{column} is {found}, expected a timestamp")
    for table, column in INTEGER_COLUMNS:
        found = types[table].get(column)
        require(found in integer_types, f"{table}.{column} is {found}, expected {integer_types}")
    summary = [f"{t}.{c} {types[t][c]}" for t, c in DATE_TIME_COLUMNS + INTEGER_COLUMNS]
    passed("column types: " + ", ".join(summary))

    check_date_times(db, dataset)


def check_date_times(db, dataset):
    """Compare every loaded date-time with the dataset's, in UTC to the microsecond."""
    queries = {
        "checks": f"SELECT uuid, last_ping FROM {db.table('checks')}",
        "pings": f"SELECT check_uuid, n, date FROM {db.table('pings')}",
        "flips": f'SELECT check_uuid, "timestamp" FROM {db.table("flips")}',
    }
    expected = expected_date_times(dataset)
    for table, sql in queries.items():
        loaded = collections.Counter()
        for row in db.query(sql):
            *key, value = row
            if table == "pings":
                key[1] = int(key[1])
            loaded[(*key, to_utc(value))] += 1
        missing = expected[table] - loaded
        extra = loaded - expected[table]
        require(
            not missing and not extra,
            f"{table} date-times differ from the dataset: missing {list(missing)[:3]}, "
            f"unexpected {list(extra)[:3]}",
        )
    passed("every pings.date, flips.timestamp and checks.last_ping equals the dataset's in UTC")


def check_activate_version(args):
    """Check that ACTIVATE_VERSION marked only the deleted check as deleted."""
    db = Postgres(args.psql, args.schema)
    rows = db.query(
        f"SELECT uuid, _sdc_deleted_at IS NOT NULL FROM {db.table('checks')} ORDER BY uuid"
    )
    deleted = [uuid for uuid, is_deleted in rows if is_deleted == "t"]
    require(
        deleted == [args.deleted],
        f"checks marked deleted: {deleted}, expected only {args.deleted}",
    )
    live = len(rows) - len(deleted)
    expected = expected_counts(fetch_dataset(args.url))["checks"]
    require(live == expected, f"{live} checks not marked deleted, expected {expected}")
    passed(
        f"after the check was deleted upstream, ACTIVATE_VERSION set _sdc_deleted_at on its "
        f"row alone ({live} live checks)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    command = commands.add_parser("make-project")
    command.add_argument("--source", required=True)
    command.add_argument("--dest", required=True)
    command.add_argument("--tap", required=True)
    command.add_argument("--loader", action="append", default=[], metavar="NAME=EXECUTABLE")
    command.set_defaults(run=make_project)

    command = commands.add_parser("check-about")
    command.add_argument("--about", required=True)
    command.add_argument("--meltano-yml", required=True)
    command.set_defaults(run=check_about)

    command = commands.add_parser("check-config")
    command.add_argument("--dump", required=True)
    command.add_argument("--base-url", required=True)
    command.add_argument("--key-source", required=True)
    command.set_defaults(run=check_config)

    command = commands.add_parser("check-select")
    command.add_argument("--listing", required=True)
    command.set_defaults(run=check_select)

    command = commands.add_parser("check-jsonl-full")
    command.add_argument("--url", required=True)
    command.add_argument("--dir", required=True)
    command.set_defaults(run=check_jsonl_full)

    command = commands.add_parser("check-jsonl-incremental")
    command.add_argument("--url", required=True)
    command.add_argument("--dir", required=True)
    command.add_argument("--new-pings", required=True, help="JSON from add-pings, or []")
    command.set_defaults(run=check_jsonl_incremental)

    command = commands.add_parser("check-state")
    command.add_argument("--url", required=True)
    command.add_argument("--state", required=True)
    command.add_argument("--checks-dir", required=True, help="a full run's target-jsonl output")
    command.set_defaults(run=check_state)

    for name, run in (("add-pings", add_pings), ("delete-check", delete_check)):
        command = commands.add_parser(name)
        command.add_argument("--url", required=True)
        command.add_argument("--check-index", type=int, default=0)
        if name == "add-pings":
            command.add_argument("--count", type=int, required=True)
        command.set_defaults(run=run)

    command = commands.add_parser("check-db")
    command.add_argument("engine", choices=["postgres", "duckdb"])
    command.add_argument("--url", required=True)
    command.add_argument("--schema", required=True)
    command.add_argument("--psql", help="psql executable; connection from PG* variables")
    command.add_argument("--path", help="DuckDB file")
    command.set_defaults(run=check_db)

    command = commands.add_parser("check-activate-version")
    command.add_argument("--url", required=True)
    command.add_argument("--schema", required=True)
    command.add_argument("--psql", required=True)
    command.add_argument("--deleted", required=True, help="uuid of the deleted check")
    command.set_defaults(run=check_activate_version)

    args = parser.parse_args()
    try:
        args.run(args)
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
