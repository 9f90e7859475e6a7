//! The states and kinds of requests and resources, as types. The strings
//! are what the database stores and what callers read in JSON.

crate::text_enum! {
    /// Where a request is: `planned` (unarmed, nothing created),
    /// `pending_approval → queued → running → fulfilled | failed`, or
    /// `rejected` (by an admin, or superseded).
    pub enum RequestState {
        Planned = "planned",
        PendingApproval = "pending_approval",
        Queued = "queued",
        Running = "running",
        Fulfilled = "fulfilled",
        Failed = "failed",
        Rejected = "rejected",
    }
}

crate::text_enum! {
    /// What a request does to its resource.
    pub enum RequestKind {
        Create = "create",
        Update = "update",
        Destroy = "destroy",
        Suspend = "suspend",
        Resume = "resume",
    }
}

crate::text_enum! {
    /// Where a resource is. It follows its create, its runs and its destroy;
    /// a change to an applied resource leaves it as it is until applied.
    pub enum ResourceState {
        Planned = "planned",
        PendingApproval = "pending_approval",
        Queued = "queued",
        Running = "running",
        Fulfilled = "fulfilled",
        Failed = "failed",
        Rejected = "rejected",
        Destroying = "destroying",
        Destroyed = "destroyed",
        DestroyFailed = "destroy_failed",
    }
}

impl RequestKind {
    /// Creates and updates apply a spec the requester chose.
    pub fn applies_spec(self) -> bool {
        matches!(self, RequestKind::Create | RequestKind::Update)
    }
}

impl ResourceState {
    /// States whose estimate counts against the project's budget.
    pub fn commits_budget(self) -> bool {
        !matches!(
            self,
            ResourceState::Planned | ResourceState::Rejected | ResourceState::Destroyed
        )
    }

    /// The state a resource takes when its create request takes `s`.
    pub fn of_create(s: RequestState) -> ResourceState {
        match s {
            RequestState::Planned => ResourceState::Planned,
            RequestState::PendingApproval => ResourceState::PendingApproval,
            RequestState::Queued => ResourceState::Queued,
            RequestState::Running => ResourceState::Running,
            RequestState::Fulfilled => ResourceState::Fulfilled,
            RequestState::Failed => ResourceState::Failed,
            RequestState::Rejected => ResourceState::Rejected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_unknown_ones_are_refused() {
        for s in ResourceState::ALL {
            assert_eq!(s.as_str().parse::<ResourceState>(), Ok(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in RequestState::ALL {
            assert_eq!(s.as_str().parse::<RequestState>(), Ok(*s));
        }
        for k in RequestKind::ALL {
            assert_eq!(k.as_str().parse::<RequestKind>(), Ok(*k));
        }
        let e = "fulfiled".parse::<RequestState>().unwrap_err();
        assert!(e.contains("pending_approval"), "{e}");
        // The budget counts what exists or is on its way, and only that.
        let committed: Vec<&str> = ResourceState::ALL
            .iter()
            .filter(|s| s.commits_budget())
            .map(|s| s.as_str())
            .collect();
        assert_eq!(
            committed,
            [
                "pending_approval",
                "queued",
                "running",
                "fulfilled",
                "failed",
                "destroying",
                "destroy_failed"
            ]
        );
    }
}
