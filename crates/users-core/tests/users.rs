//! users-core against a real SQLite file and a real PostgreSQL server (named by
//! `RVOIP_TEST_POSTGRES`, which `.ci/run` sets after starting it).

use auth_core::{Algorithm, CredentialStore};
use users_core::{NewAccount, Preloaded, Refreshed, Role, UserError, Users};

fn temp_db(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("rvoip-users-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("users.db").to_string_lossy().into_owned()
}

async fn ha1(users: &Users, user: &str, realm: &str, alg: Algorithm) -> Option<String> {
    users.ha1(user, realm, alg).await.expect("ha1")
}

/// Every account's `user@domain`, in listing order.
async fn aors(users: &Users) -> Vec<String> {
    users
        .list()
        .await
        .expect("list")
        .iter()
        .map(|a| a.aor())
        .collect()
}

async fn lifecycle(users: &Users) {
    let mut new = NewAccount::new("alice", "Example.COM", "correct horse");
    new.display_name = Some("Alice A.".into());
    new.roles = vec![Role::User, Role::Agent];
    let alice = users.add(&new).await.expect("add");
    assert_eq!(alice.aor(), "alice@example.com");
    assert!(
        matches!(users.add(&new).await, Err(UserError::Duplicate(a)) if a == "alice@example.com")
    );
    let weak = NewAccount::new("bob", "example.com", "bob12345");
    assert!(matches!(
        users.add(&weak).await,
        Err(UserError::WeakPassword(_))
    ));
    let odd = NewAccount::new("bo b", "example.com", "correct horse");
    assert!(matches!(users.add(&odd).await, Err(UserError::Invalid(_))));
    users
        .add(&NewAccount::new("bob", "example.com", "battery staple"))
        .await
        .expect("bob");

    let got = users
        .get("alice", "example.com")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got, alice);
    assert_eq!(got.roles, vec![Role::User, Role::Agent]);
    assert_eq!(aors(users).await, ["alice@example.com", "bob@example.com"]);

    // Many at once: all or none. A duplicate among them adds nobody; a
    // phone-only account has digest credentials but no password login.
    let mut phone = NewAccount::new("carol", "example.com", "tulip meadow");
    phone.login = false;
    let batch = [
        phone.clone(),
        NewAccount::new("bob", "example.com", "x-ray vision"),
    ];
    assert!(
        matches!(users.add_many(&batch).await, Err(UserError::Duplicate(a)) if a == "bob@example.com")
    );
    assert_eq!(aors(users).await, ["alice@example.com", "bob@example.com"]);
    users.add_many(&batch[..1]).await.expect("add carol");
    assert!(
        !users
            .check_password("carol", "example.com", "tulip meadow")
            .await
            .expect("check")
    );
    assert!(
        ha1(users, "carol", "example.com", Algorithm::Md5)
            .await
            .is_some()
    );
    users
        .delete("carol", "example.com")
        .await
        .expect("delete carol");

    // Digest credentials for the domain as realm, every algorithm; no
    // password stored in the clear.
    for a in Algorithm::ALL {
        let ha1 = ha1(users, "alice", "example.com", a).await;
        assert_eq!(ha1, Some(a.ha1("alice", "example.com", "correct horse")));
    }
    assert_eq!(
        ha1(users, "alice", "example.org", Algorithm::Md5).await,
        None
    );
    assert!(
        users
            .check_password("alice", "example.com", "correct horse")
            .await
            .expect("check")
    );
    assert!(
        !users
            .check_password("alice", "example.com", "wrong horse")
            .await
            .expect("check")
    );
    assert!(
        !users
            .check_password("carol", "example.com", "correct horse")
            .await
            .expect("check")
    );

    // A new password replaces the HA1 values.
    users
        .set_password("alice", "example.com", "new stable pass")
        .await
        .expect("passwd");
    assert_eq!(
        ha1(users, "alice", "example.com", Algorithm::Sha256).await,
        Some(Algorithm::Sha256.ha1("alice", "example.com", "new stable pass"))
    );
    assert!(matches!(
        users
            .set_password("carol", "example.com", "new stable pass")
            .await,
        Err(UserError::Unknown(_))
    ));

    // Disabled accounts do not authenticate.
    users
        .set_enabled("alice", "example.com", false)
        .await
        .expect("disable");
    assert_eq!(
        ha1(users, "alice", "example.com", Algorithm::Md5).await,
        None
    );
    assert!(
        !users
            .check_password("alice", "example.com", "new stable pass")
            .await
            .expect("check")
    );
    users
        .set_enabled("alice", "example.com", true)
        .await
        .expect("enable");

    // API keys: shown once, stored hashed, checked.
    let (info, key) = users
        .create_api_key("alice", "example.com", "provisioning")
        .await
        .expect("key");
    assert!(key.starts_with(&format!("rvk_{}_", info.id)));
    let owner = users
        .check_api_key(&key)
        .await
        .expect("check")
        .expect("valid");
    assert_eq!(owner.aor(), "alice@example.com");
    let mut forged = key.clone();
    forged.pop();
    forged.push(if key.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(users.check_api_key(&forged).await.expect("check"), None);
    assert_eq!(
        users.check_api_key("rvk_nothing").await.expect("check"),
        None
    );
    assert_eq!(
        users.api_keys("alice", "example.com").await.expect("keys"),
        vec![info]
    );

    // Delete takes credentials and keys along.
    users.delete("alice", "example.com").await.expect("delete");
    assert!(
        users
            .get("alice", "example.com")
            .await
            .expect("get")
            .is_none()
    );
    assert_eq!(users.check_api_key(&key).await.expect("check"), None);
    assert_eq!(
        ha1(users, "alice", "example.com", Algorithm::Md5).await,
        None
    );
    assert!(matches!(
        users.delete("alice", "example.com").await,
        Err(UserError::Unknown(_))
    ));
}

/// Credentials held in memory follow changes made through another handle
/// on the same database (another process, such as `rvoip user`), once
/// refreshed; `other` starts with no account.
async fn preloaded(users: &Users, other: &Users) {
    let md5 = Algorithm::Md5;
    other
        .add(&NewAccount::new("dave", "example.com", "purple ocean"))
        .await
        .expect("dave");
    let held = Preloaded::load(users.clone(), &[md5, Algorithm::Sha256])
        .await
        .expect("load");
    assert_eq!(held.len(), 1);
    assert_eq!(
        held.get("dave", "example.com", md5),
        Some(md5.ha1("dave", "example.com", "purple ocean"))
    );
    // Only the algorithms asked for, only the realms the account has.
    assert_eq!(held.get("dave", "example.com", Algorithm::Sha512_256), None);
    assert_eq!(held.get("dave", "example.org", md5), None);
    assert_eq!(held.refresh().await.expect("refresh"), Refreshed::Unchanged);

    // A new password: the old value until refreshed, then the new one.
    other
        .set_password("dave", "example.com", "green forest")
        .await
        .expect("passwd");
    let old = Some(md5.ha1("dave", "example.com", "purple ocean"));
    assert_eq!(held.get("dave", "example.com", md5), old);
    assert_eq!(
        held.refresh().await.expect("refresh"),
        Refreshed::Accounts(1)
    );
    let new = Some(md5.ha1("dave", "example.com", "green forest"));
    assert_eq!(held.get("dave", "example.com", md5), new);

    // Disabled, enabled again (two changes, one account read).
    other
        .set_enabled("dave", "example.com", false)
        .await
        .expect("disable");
    held.refresh().await.expect("refresh");
    assert_eq!(held.get("dave", "example.com", md5), None);
    other
        .set_enabled("dave", "example.com", true)
        .await
        .expect("enable");
    other
        .add(&NewAccount::new("erin", "example.com", "silver moon"))
        .await
        .expect("erin");
    assert_eq!(
        held.refresh().await.expect("refresh"),
        Refreshed::Accounts(2)
    );
    assert_eq!(held.get("dave", "example.com", md5), new);
    assert!(held.get("erin", "example.com", md5).is_some());

    // A bulk import reads everything again.
    let batch = [
        NewAccount::new("fay", "example.com", "golden sun"),
        NewAccount::new("gil", "example.com", "copper wire"),
    ];
    other.add_many(&batch).await.expect("import");
    assert_eq!(held.refresh().await.expect("refresh"), Refreshed::All(4));
    assert!(held.get("gil", "example.com", md5).is_some());

    // A change log that no longer reaches back: everything again.
    other.delete("fay", "example.com").await.expect("delete");
    sqlx::query("DELETE FROM account_changes")
        .execute(other.database().pool())
        .await
        .expect("forget the log");
    other.delete("gil", "example.com").await.expect("delete");
    assert_eq!(held.refresh().await.expect("refresh"), Refreshed::All(2));
    assert_eq!(held.get("gil", "example.com", md5), None);

    // Deleted accounts are gone after a refresh.
    other.delete("dave", "example.com").await.expect("delete");
    other.delete("erin", "example.com").await.expect("delete");
    held.refresh().await.expect("refresh");
    assert!(held.is_empty());
    assert_eq!(
        held.ha1("erin", "example.com", md5).await.expect("ha1"),
        None
    );
}

#[tokio::test]
async fn preloaded_credentials_follow_changes_on_sqlite() {
    let path = temp_db("preload");
    let users = Users::open(&path).await.expect("open");
    let other = Users::open(&path).await.expect("open again");
    preloaded(&users, &other).await;
}

#[tokio::test]
async fn accounts_on_sqlite_survive_a_reopen() {
    let path = temp_db("lifecycle");
    let users = Users::open(&path).await.expect("open");
    lifecycle(&users).await;
    drop(users);
    let again = Users::open(&path).await.expect("reopen");
    assert_eq!(aors(&again).await, ["bob@example.com"]);
}

#[tokio::test]
async fn accounts_on_postgres() {
    let url = std::env::var("RVOIP_TEST_POSTGRES")
        .expect("RVOIP_TEST_POSTGRES must name a PostgreSQL database (.ci/run starts one)");
    let users = Users::open(&url).await.expect("open postgres");
    for a in users.list().await.expect("list") {
        users.delete(&a.username, &a.domain).await.expect("clean");
    }
    lifecycle(&users).await;
    for a in users.list().await.expect("list") {
        users.delete(&a.username, &a.domain).await.expect("clean");
    }
    let other = Users::open(&url).await.expect("open postgres again");
    preloaded(&users, &other).await;
}
