//! Seed 004 (ProcessPilot DR runbook) end to end: `/dr database-failure |
//! app-server-failure | data-corruption | security-breach | drill` against a real
//! PostgreSQL database (restored for real by a test `restore.sh` that runs `psql`), a
//! local HTTP app, real `cp`, and stand-in `npm`, `systemctl`, `journalctl` and
//! `iptables` that record their exact argv.
//! Each test is the table of its name in `tests/scenarios/processpilot.toml`.

mod common;

common::scenario::scenarios! { "processpilot.toml", None;
    // --- Scenario 1: complete database failure ---------------------------------------
    database_failure_restores_the_chosen_backup_after_approval_and_confirmation_then_migrates_restarts_and_verifies,
    the_database_is_not_restored_until_a_person_confirms,
    a_backup_path_that_could_escape_or_inject_is_refused_as_invalid_input,
    a_failing_restore_stops_recovery_before_migrations_and_restart,
    // --- Scenario 2: application server failure --------------------------------------
    app_server_failure_restarts_the_backend_and_nginx_then_polls_health_until_it_recovers,
    a_hanging_systemctl_is_killed_at_the_step_timeout_and_nothing_is_restarted,
    // --- Scenario 3: data corruption --------------------------------------------------
    data_corruption_assesses_then_restores_the_clean_backup_and_verifies_integrity,
    integrity_failing_after_the_restore_fails_the_run_and_says_why,
    // --- Scenario 4: security breach --------------------------------------------------
    security_breach_needs_security_and_lead_then_blocks_the_ip_revokes_tokens_and_preserves_evidence,
    an_ip_that_is_not_a_plain_ipv4_address_is_refused_as_invalid_input,
    people_outside_the_security_incident_row_can_neither_start_nor_approve_a_breach_response,
    a_failing_firewall_rule_stops_before_tokens_are_revoked_or_evidence_copied,
    // --- Monthly recovery drill 1 ------------------------------------------------------
    drill_restores_to_staging_without_production_credentials_and_reports_the_timings,
    a_failed_drill_restore_skips_the_integrity_test_and_only_on_call_may_drill,
    data_reconciliation_compares_backups_waits_for_a_person_then_recovers_and_verifies,
    security_recovery_assesses_hardens_and_verifies_and_restores_only_when_compromised,
    supabase_restore_lists_then_restores_to_the_backup_point_with_the_real_cli,
    postgres_restore_drops_recreates_and_restores_the_real_database_between_stop_and_start,
    complete_recovery_restores_the_latest_backup_restarts_everything_and_verifies,
    drill_2_stops_the_backend_runs_the_recovery_dry_run_and_starts_it_again,
    // --- Recovery by provider, migration, provider switch (issue 13) ------------------
    planetscale_restore_branches_from_the_backup_and_opens_a_deploy_request_into_main,
    the_pscale_stand_in_refuses_what_the_real_cli_refuses,
    neon_restore_puts_main_back_to_the_timestamp_keeping_the_old_state_under_a_name,
    the_seeds_neon_reset_with_a_timestamp_fails_as_the_real_cli_fails,
    railway_restore_lists_the_snapshots_restores_the_selected_one_and_checks_the_database,
    postgres_pitr_restores_the_base_backup_waits_for_the_recovery_target_then_verifies_with_sql,
    provider_switch_checks_supabase_waits_for_the_environment_then_migrates_there_and_restarts,
    migrate_to_supabase_backs_up_postgresql_and_restores_the_file_into_supabase,
    app_redeploy_checks_out_the_previous_version_installs_builds_and_restarts_once_a_person_says_the_restart_failed,
    rpo_check_finds_a_backup_within_the_hour_and_says_breach_when_the_newest_is_older,
}
