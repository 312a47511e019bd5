//! Seed 003 (Vercel / Railway / Supabase app) end to end: `/app-rollback frontend |
//! backend | database | full` against stand-in `vercel`, `railway`, `git` and `node`
//! CLIs that record their exact argv and accept only the real tools' grammar
//! (`common/grammar.rs`), and a local HTTP app playing the site and the API.
//! Each test is the table of its name in `tests/scenarios/webapp.toml`.

mod common;

common::scenario::scenarios! { "webapp.toml", None;
    frontend_rollback_runs_vercel_rollback_of_the_named_deployment_after_the_lead_approves_and_checks_the_site_loads,
    frontend_rollback_to_a_named_deployment_passes_exactly_that_deployment,
    vercel_rollback_previous_as_the_seed_writes_it_fails_as_the_real_cli_fails,
    app_deployments_lists_vercel_and_railway_deployments_and_a_rollback_needs_one_named,
    a_deployment_that_is_not_a_vercel_url_or_id_is_refused_before_anything_runs,
    a_dry_run_shows_the_exact_argv_and_directory_and_changes_nothing,
    a_hanging_vercel_is_killed_at_the_step_timeout_and_the_site_is_not_checked,
    backend_rollback_redeploys_the_named_commit_with_the_real_railway_cli_then_checks_health_clients_and_auth_in_order,
    a_failing_railway_rollback_stops_the_run_posts_the_failure_and_checks_nothing,
    database_rollback_needs_a_lead_and_a_dba_and_stops_at_both_checkpoints,
    a_cancelled_database_rollback_never_restores,
    full_rollback_rolls_back_frontend_then_backend_and_waits_for_a_person_before_checking,
    a_failing_frontend_rollback_stops_a_full_rollback_before_the_backend,
    people_outside_the_matrix_cannot_roll_anything_back,
    a_webapp_incident_escalates_along_seed_003s_path,
    promote_runs_vercel_promote_of_the_named_deployment_then_verifies_the_site,
    pitr_restores_to_the_point_in_time_only_after_the_lead_the_dba_and_a_confirmation,
    // --- Git-based frontend rollback, Railway dashboard rollback (issue 13) -----------
    frontend_git_rollback_resets_a_rollback_branch_force_pushes_after_confirmation_and_deploys_it,
    backend_dashboard_rollback_lists_deployments_waits_for_the_redeploy_then_checks_status_and_health,
}
