//! The people of one's organisation.

use crate::protocol::{Me, UserId, UserSummary};

use super::db::users;
use super::{Backend, Error, Result};

impl Backend {
    /// A user of the caller's organisation; any other id is `NotFound`.
    pub async fn user_in_org(&self, me: &Me, user_id: UserId) -> Result<UserSummary> {
        let mut user = users::find_in_org(&self.db, me.org_id, user_id)
            .await?
            .ok_or(Error::NotFound)?;
        user.is_online = self.hub.is_online(user.id);
        Ok(user)
    }
}
