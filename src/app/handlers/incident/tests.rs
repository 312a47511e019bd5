use super::*;

#[test]
fn user_references_accept_platform_forms_only() {
    assert_eq!(user_ref("@U123").as_deref(), Some("U123"));
    assert_eq!(user_ref("<@U123>").as_deref(), Some("U123"));
    assert_eq!(user_ref("U_LEAD").as_deref(), Some("U_LEAD"));
    for bad in [
        "",
        "@",
        "<@>",
        "a b",
        "$(id)",
        "x;y",
        "@channel",
        "@here",
        "<@everyone>",
    ] {
        assert!(user_ref(bad).is_none(), "{bad}");
    }
}
