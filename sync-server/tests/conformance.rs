//! Runs the storage conformance suite against SQLite (always) and PostgreSQL.
//!
//! PostgreSQL is reached at `KARTKA_TEST_POSTGRES` (`scripts/postgres-up` prints one). When
//! `KARTKA_REQUIRE_POSTGRES=1` (CI and `scripts/test-all` set it) a missing PostgreSQL fails
//! the run instead of skipping these cases.

use kartka_server::storage::conformance as c;
use kartka_server::storage::postgres::PgStorage;
use kartka_server::storage::sqlite::SqliteStorage;

fn sqlite() -> (tempfile::TempDir, SqliteStorage) {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStorage::open(&dir.path().join("server.db")).unwrap();
    (dir, s)
}

async fn postgres() -> Option<PgStorage> {
    let url = c::test_postgres_url()?;
    Some(
        PgStorage::connect(&url, 8)
            .await
            .expect("connect to PostgreSQL"),
    )
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod on_sqlite {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let (_dir, s) = sqlite();
                    c::$case(&s).await;
                }
            )*
        }
        mod on_postgres {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if let Some(s) = postgres().await {
                        c::$case(&s).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    businesses_devices_and_tokens,
    invites_are_single_use_short_lived_and_scoped,
    revocation_is_scoped_to_the_business,
    a_fresh_device_pages_through_whole_documents,
    the_feed_carries_only_what_is_new_and_never_echoes,
    bad_documents_are_refused_and_nothing_is_kept,
    documents_of_another_business_are_out_of_reach,
    a_cursor_from_the_future_starts_over,
    pushes_are_announced,
    concurrent_pushes_make_a_gapless_feed,
    server_writes_reach_devices,
    a_bad_push_among_concurrent_ones_is_refused_alone,
    who_wrote_where_and_what_is_kept_for_no_business,
);
