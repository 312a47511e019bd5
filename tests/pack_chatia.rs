//! Seed 001 (Kanban V2 / chatia) end to end against real PostgreSQL (the seed's own
//! SQL on its fixture schema), real Redis, a local HTTP app and real `pg_dump`.
//! Each test is the table of its name in `tests/scenarios/chatia.toml`.

mod common;

common::scenario::scenarios! { "chatia.toml", None;
    kanban_off_disables_every_company_clears_the_cache_and_checks_health,
    a_failing_health_check_fails_the_run_after_retries_and_posts_the_failure,
    without_cache_and_api_the_optional_steps_are_skipped_and_say_so,
    selective_rollback_switches_off_the_top_companies_then_checks_metrics,
    data_corruption_stop_blocks_writes_dumps_tables_and_posts_the_assessment,
    surgical_cleanup_commits_only_when_validation_passes,
    surgical_cleanup_rolls_everything_back_when_validation_fails,
    re_enabling_binds_the_company_id_and_refuses_injection,
    monitoring_after_re_enabling_fails_at_the_first_integrity_check_that_breaks,
    a_break_glass_stop_asks_the_lead_and_the_dba_to_ratify_and_records_their_ratification,
    an_unratified_break_glass_stop_escalates_and_the_post_mortem_marks_it,
    kanban_off_supersedes_a_selective_off_waiting_for_approval_and_tells_its_requester,
    kanban_off_supersedes_a_cleanup_parked_at_its_checkpoint,
    a_lower_severity_request_does_not_supersede_and_is_refused_as_busy,
    kanban_verify_checks_the_flag_and_the_error_rate_then_waits_for_the_manual_check,
    kanban_verify_fails_when_the_last_100_log_lines_hold_5_errors,
    kanban_restore_puts_back_tags_and_ticket_tags_from_the_backup_before_the_corruption,
    // --- Drills (issue 13) -------------------------------------------------------------
    a_drill_runs_kanban_off_against_the_staging_twins_and_never_touches_production,
    a_drill_whose_twin_is_not_configured_is_refused_and_production_is_untouched,
    an_overdue_drill_is_reminded_once_in_the_incident_channel,
}
