//! Seed 000 (LegalFlow rollback & DR) end to end: the seed's SQL against real
//! PostgreSQL (the `legalflow` schema of the pack's fixture), a local HTTP app, a
//! stand-in `supabase` and `git`, and real `pg_dump`. Each test is the table of its
//! name in `tests/scenarios/legalflow.toml`.

mod common;

common::scenario::scenarios! { "legalflow.toml", None;
    // --- 1.1 Kill switch -------------------------------------------------------------
    kill_switch_on_locks_down_verifies_and_alerts_the_stakeholders,
    a_quoted_sql_injection_in_the_reason_is_stored_verbatim_as_a_bound_value,
    shell_syntax_in_the_reason_is_refused_before_anything_runs,
    someone_outside_the_p0_roles_cannot_pull_the_kill_switch,
    lifting_the_kill_switch_waits_for_the_leads_approval_and_logs_why,
    // --- 1.2 / 2.2 Modules --------------------------------------------------------------
    disabling_an_optional_module_turns_off_only_its_flag,
    core_modules_can_never_be_disabled_the_parser_refuses_them,
    the_sql_guard_keeps_core_modules_on_even_if_a_core_name_slips_through_the_choices,
    re_enabling_a_module_waits_for_the_leads_approval,
    // --- 2.1, 2.3, 1.3 Read-only checks ----------------------------------------------------
    scope_check_posts_recent_errors_slow_endpoints_and_serious_security_events,
    integrity_check_posts_the_counts_and_the_foreign_keys,
    migration_history_lists_the_latest_migrations_first,
    // --- DR 1.1, 1.2, 1.3 Backups --------------------------------------------------------
    snapshot_creates_a_dated_supabase_snapshot_and_logs_it,
    a_failed_snapshot_is_not_logged_as_completed,
    backup_log_records_validated_values_as_bound_parameters,
    weekly_backup_dumps_the_database_archives_the_code_and_logs_it,
    // --- 3.1 Restore ---------------------------------------------------------------------
    restore_needs_the_lead_and_a_dba_then_a_checkpoint_before_it_restores,
    restore_refuses_snapshot_ids_that_could_inject_into_argv,
    restore_is_denied_to_someone_outside_the_data_corruption_roles,
    a_restore_that_leaves_no_clientes_fails_its_verification,
    frontend_rollback_reverts_the_commit_rebuilds_and_waits_for_the_deploy,
    corruption_scope_lists_matching_columns_with_a_bound_fragment,
    reindex_needs_the_lead_and_a_dba_then_rebuilds_the_schemas_indexes,
    // --- 3.3 Verification, post-incident ----------------------------------------------------
    app_verify_checks_health_the_sla_metric_a_manual_login_and_the_database,
    a_failing_health_check_fails_app_verify,
    post_incident_check_runs_the_qa_checks_and_reads_the_status,
    // --- DR 3.2, Emergency Response 3 -------------------------------------------------------
    dr_test_record_inserts_the_event_with_typed_values,
    a_dr_test_over_the_rto_is_recorded_and_then_fails_the_objective_check,
    incident_resolution_log_stores_the_incident_id_and_the_actions_verbatim,
    a_legalflow_p0_runs_on_seed_000s_rto_and_escalates_to_its_critical_contacts,
    app_server_failover_pushes_to_the_backup_server_waits_for_dns_then_checks_it,
    health_thresholds_configures_the_seeds_four_monitoring_thresholds,
    // --- Emergency Response 1, DR 2.1, DR 3.1 as a drill (issue 13) -----------------
    detect_checks_health_the_database_and_the_status_dashboard_then_waits_for_a_person,
    detect_fails_when_the_app_is_down,
    database_loss_restores_the_latest_backup_into_the_new_database_then_deploys_and_verifies,
    the_monthly_dr_test_drill_restores_the_latest_backup_into_the_dr_database_and_reports_its_timings,
    rpo_check_passes_with_a_recent_backup_and_says_breach_past_24_hours,
}
