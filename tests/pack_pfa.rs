//! Seed 002 (PFA Vanguard, ADR-008 rollback plan) end to end: the seed's own SQL on its
//! fixture schema in a real PostgreSQL database, a local HTTP app standing in for the
//! API and the frontend, and stand-in `pm2`, `git`, `npm`, `npx` and `aws` that record
//! their exact argv and the directory they ran in. Each test is the table of its name
//! in `tests/scenarios/pfa.toml`.

mod common;

use common::scenario::World;

/// `pm2 list` as pm2 prints it, with the two PFA processes in these states.
fn pm2_list(worker: &str, backend: &str) -> String {
    format!(
        "┌────┬────────────────────────┬─────────┬──────┬───────────┐\n\
         │ id │ name                   │ mode    │ ↺    │ status    │\n\
         ├────┼────────────────────────┼─────────┼──────┼───────────┤\n\
         │ 0  │ pfa-vanguard-backend   │ fork    │ 3    │ {backend:<9} │\n\
         │ 1  │ pems-write-sync-worker │ fork    │ 0    │ {worker:<9} │\n\
         └────┴────────────────────────┴─────────┴──────┴───────────┘\n"
    )
}

/// `{ pm2 = [worker, backend] }`: a stand-in `pm2` whose `list` shows those states.
fn pm2(world: &World, action: &toml::Table) -> bool {
    let Some(states) = action.get("pm2").and_then(toml::Value::as_array) else {
        return false;
    };
    let state = |i: usize| states[i].as_str().expect("a pm2 status");
    world.standin("pm2", &pm2_list(state(0), state(1)), 0);
    true
}

common::scenario::scenarios! { "pfa.toml", Some(pm2);
    quick_rollback_stops_the_sync_worker_first_reverts_both_tiers_and_announces,
    quick_rollback_needs_the_devsecops_lead_and_nothing_runs_before,
    a_failing_health_check_stops_the_quick_rollback_and_posts_the_failure,
    a_sync_worker_still_online_stops_the_rollback_before_any_code_changes,
    a_failing_backend_install_fails_its_step_and_the_backend_is_not_restarted,
    injection_in_the_version_or_reason_is_refused_before_anything_runs,
    quick_rollback_to_another_tag_without_invalidation_skips_cloudfront_and_says_so,
    full_rollback_checks_the_backup_marks_the_migration_rolled_back_keeps_its_tables_and_redeploys,
    db_mark_only_marks_the_migration_rolled_back_and_drops_nothing,
    db_mark_drop_marks_first_and_drops_the_two_tables_only_after_the_rollback_is_confirmed,
    db_restore_restores_todays_backup_over_the_database_after_the_warning_is_confirmed,
    a_db_restore_from_a_broken_backup_changes_nothing,
    full_rollback_without_todays_backup_stops_before_touching_the_database,
    migration_down_needs_the_lead_and_a_dba_and_drops_the_sync_schema_in_one_transaction,
    migration_down_rolls_back_when_validation_still_finds_a_sync_table,
    partial_rollback_a_stops_only_the_sync_worker_and_switches_the_sync_flag_off,
    partial_rollback_a_fails_when_the_sync_flag_is_not_there_to_switch_off,
    partial_rollback_b_reverts_only_the_backend_and_checks_the_api,
    partial_rollback_c_reverts_only_the_frontend_and_redeploys_it,
    partial_rollback_refuses_a_part_that_is_not_a_b_or_c,
    a_second_rollback_cannot_start_while_the_first_is_live,
    verify_rollback_checks_every_point_then_waits_for_people_before_resolving,
    verify_rollback_fails_when_the_record_count_differs_from_the_baseline,
    verify_rollback_fails_on_an_unhealthy_database_and_runs_nothing_after,
    verify_rollback_keeps_watching_the_metrics_until_the_error_rate_is_normal,
    a_phase_over_its_seed_budget_is_reported_over,
    // --- Drill (issue 13) ------------------------------------------------------------
    the_quarterly_rollback_drill_runs_the_quick_rollback_on_staging_and_times_it_against_the_seed_budgets,
    a_drill_missing_a_twin_is_refused_before_anything_runs,
    the_post_mortem_carries_seed_002s_incident_report_fields_filled_where_warroom_knows_them,
}
