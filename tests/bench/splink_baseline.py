#!/usr/bin/env python3
"""Splink baseline for `beaconport bench resolution --splink-python PYTHON`.

Runs Splink (a probabilistic linkage tool of the UK Ministry of Justice) on the same CSV files
Beaconport resolves, with settings in the manner of Splink's own FEBRL demo (name, date of birth,
identifier and postcode comparisons; u by random sampling; m by expectation maximisation on
blocked pairs), clusters at a range of thresholds and prints, for the best threshold, pairwise
precision, recall and F1 and the wall time, one line per file:

    splink <label> <precision> <recall> <f1> <seconds> <threshold>

Usage: splink_baseline.py febrl FILE [FILE...] | splink_baseline.py messy FILE
Needs `pip install splink==5.0.0` (DuckDB backend).
"""

import sys
import time
from collections import Counter

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def pairs(n):
    return n * (n - 1) // 2


def score(assign, truth):
    """Pairwise precision, recall, F1 of `assign` (id -> cluster) against `truth` (id -> entity)."""
    by_pred, by_true, by_both = Counter(), Counter(), Counter()
    for rid, t in truth.items():
        p = assign.get(rid, ("self", rid))
        by_pred[p] += 1
        by_true[t] += 1
        by_both[(p, t)] += 1
    predicted = sum(pairs(n) for n in by_pred.values())
    true = sum(pairs(n) for n in by_true.values())
    correct = sum(pairs(n) for n in by_both.values())
    p = correct / predicted if predicted else 1.0
    r = correct / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def best_clustering(linker, predictions, truth):
    best = None
    for threshold in [0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999]:
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        assign = {row["unique_id"]: row["cluster_id"] for row in clusters.as_record_list()}
        p, r, f = score(assign, truth)
        if best is None or f > best[2]:
            best = (p, r, f, threshold)
    return best


def febrl(path):
    con = duckdb.connect()
    t = time.time()
    df = con.sql(
        f"""select trim(rec_id) as unique_id, trim(given_name) as given_name, trim(surname) as surname,
                   trim(street_number) as street_number, trim(postcode) as postcode,
                   trim(cast(date_of_birth as varchar)) as date_of_birth,
                   trim(cast(soc_sec_id as varchar)) as soc_sec_id,
                   regexp_extract(trim(rec_id), '^rec-([0-9]+)', 1) as entity
            from read_csv('{path}', all_varchar=true, header=true, normalize_names=true)"""
    )
    truth = {r[0]: r[1] for r in con.sql("select unique_id, entity from df").fetchall()}
    blocking = [block_on(c) for c in ["soc_sec_id", "given_name", "surname", "date_of_birth", "postcode"]]
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
        ],
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [
            block_on("soc_sec_id"),
            block_on("given_name", "surname", "date_of_birth"),
            "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth",
        ],
        recall=0.9,
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    p, r, f, threshold = best_clustering(linker, predictions, truth)
    return p, r, f, time.time() - t, threshold


def messy(path):
    con = duckdb.connect()
    t = time.time()
    df = con.sql(
        f"""select id as unique_id, lower(forenames) as forenames, lower(surname) as surname,
                   case when length(date_of_birth) = 10 then date_of_birth end as date_of_birth,
                   nullif(sex, '') as sex, nullif(upper(replace(postcode, ' ', '')), '') as postcode,
                   nullif(split_part(regexp_replace(phone, '[^0-9;]', '', 'g'), ';', 1), '') as phone,
                   nullif(upper(replace(vehicle, ' ', '')), '') as vehicle, nullif(passport, '') as passport,
                   nullif(upper(pnc_id), '') as pnc_id, true_person
            from read_csv('{path}', all_varchar=true, header=true)"""
    )
    truth = {r[0]: r[1] for r in con.sql("select unique_id, true_person from df").fetchall()}
    blocking = [
        block_on("forenames", "date_of_birth"),
        block_on("surname", "date_of_birth"),
        block_on("forenames", "surname"),
        block_on("postcode", "surname"),
        block_on("phone"),
        block_on("pnc_id"),
        block_on("passport"),
    ]
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=[
            cl.NameComparison("forenames").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, invalid_dates_as_null=True),
            cl.ExactMatch("sex"),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("phone"),
            cl.ExactMatch("vehicle"),
            cl.ExactMatch("passport"),
            cl.ExactMatch("pnc_id"),
        ],
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("pnc_id"), block_on("forenames", "surname", "date_of_birth")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    p, r, f, threshold = best_clustering(linker, predictions, truth)
    return p, r, f, time.time() - t, threshold


def main():
    kind, files = sys.argv[1], sys.argv[2:]
    for path in files:
        p, r, f, secs, threshold = (febrl if kind == "febrl" else messy)(path)
        label = path.rsplit("/", 1)[-1]
        print(f"splink {label} {p:.4f} {r:.4f} {f:.4f} {secs:.3f} {threshold}", flush=True)


if __name__ == "__main__":
    main()
