//! The plan: every timed request decided up front from the seed — which API,
//! which account, which amount — and what each would do to the books. Deciding
//! first lets setup fund exactly what the withdrawals will take, lets the limits
//! be checked before anything is sent, and lets the balance check afterwards
//! know what each accepted request moved.

use freewalker_domain::limits::LimitSet;
use freewalker_protocol::api::paths;

use crate::options::Scenario;
use crate::rng::Rng;

/// The smallest timed recharge (1.00 CNY), in fen.
pub const RECHARGE_FEN_MIN: i64 = 100;
/// The largest timed recharge (9.99 CNY), in fen: far below every L2 limit, so a
/// run of a few hundred thousand requests over the default 1,000 accounts stays
/// inside the daily recharge limit of each.
pub const RECHARGE_FEN_MAX: i64 = 999;
/// Every withdrawal (0.10 CNY), in fen: 0.01 USD at 718.25, the smallest payout
/// that is not zero.
pub const WITHDRAW_FEN: i64 = 10;
/// What setup credits every funded account beyond what its withdrawals will take
/// (100.00 CNY), so that queries see a balance worth showing.
pub const FUNDING_EXTRA_FEN: i64 = 10_000;

/// The APIs of §4, as the bench names them in its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Api {
    UserSync,
    CustomerSync,
    RechargeApply,
    RechargeQuery,
    WithdrawConfirm,
    WithdrawQuery,
    AccountQuery,
}

impl Api {
    pub const ALL: [Api; 7] = [
        Api::UserSync,
        Api::CustomerSync,
        Api::RechargeApply,
        Api::RechargeQuery,
        Api::WithdrawConfirm,
        Api::WithdrawQuery,
        Api::AccountQuery,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Api::UserSync => paths::USER_SYNC,
            Api::CustomerSync => paths::CUSTOMER_SYNC,
            Api::RechargeApply => paths::RECHARGE_APPLY,
            Api::RechargeQuery => paths::RECHARGE_QUERY,
            Api::WithdrawConfirm => paths::WITHDRAW_CONFIRM,
            Api::WithdrawQuery => paths::WITHDRAW_QUERY,
            Api::AccountQuery => paths::ACCOUNT_QUERY,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Api::UserSync => "user_sync",
            Api::CustomerSync => "customer_sync",
            Api::RechargeApply => "recharge_apply",
            Api::RechargeQuery => "recharge_query",
            Api::WithdrawConfirm => "withdraw_confirm",
            Api::WithdrawQuery => "withdraw_query",
            Api::AccountQuery => "account_query",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One timed request. Accounts are indexes into the setup users; the order
/// numbers and new users' IDs are derived from the request's place in the plan
/// (see [`Names`]), so they are unique without being stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Syncs a new user (the request's index names it).
    UserSync,
    Recharge {
        user: u32,
        amount_fen: i64,
    },
    Withdraw {
        user: u32,
        amount_fen: i64,
    },
    AccountQuery {
        user: u32,
    },
    /// Queries the account's setup recharge.
    RechargeQuery {
        user: u32,
    },
    /// Queries the account's setup withdrawal.
    WithdrawQuery {
        user: u32,
    },
}

impl Action {
    pub fn api(self) -> Api {
        match self {
            Action::UserSync => Api::UserSync,
            Action::Recharge { .. } => Api::RechargeApply,
            Action::Withdraw { .. } => Api::WithdrawConfirm,
            Action::AccountQuery { .. } => Api::AccountQuery,
            Action::RechargeQuery { .. } => Api::RechargeQuery,
            Action::WithdrawQuery { .. } => Api::WithdrawQuery,
        }
    }
}

/// Every ID the bench makes up, derived from its institution ID so that runs
/// never collide (§4: IDs are 1–64 of `[A-Za-z0-9_-]`; the institution ID is at
/// most 32, the suffixes at most 12).
#[derive(Debug, Clone)]
pub struct Names {
    pub institution_id: String,
}

impl Names {
    /// The `out_user_id` of setup account `user`.
    pub fn setup_user(&self, user: u32) -> String {
        format!("U{user}")
    }
    /// The passport number of setup account `user` (one document, one user: §4.1).
    pub fn setup_document(&self, user: u32) -> String {
        format!("P{user:09}")
    }
    /// The `out_user_id` of the user that timed request `index` syncs.
    pub fn new_user(&self, index: u32) -> String {
        format!("T{index}")
    }
    pub fn new_document(&self, index: u32) -> String {
        format!("Q{index:09}")
    }
    /// The `out_order_no` of timed recharge `index`.
    pub fn recharge(&self, index: u32) -> String {
        format!("{}-R{index}", self.institution_id)
    }
    /// The `out_order_no` of timed withdrawal `index`.
    pub fn withdrawal(&self, index: u32) -> String {
        format!("{}-W{index}", self.institution_id)
    }
    /// The `out_order_no` of the `part`-th funding recharge of account `user`.
    pub fn funding(&self, user: u32, part: u32) -> String {
        format!("{}-F{user}-{part}", self.institution_id)
    }
    /// The `out_order_no` of the setup withdrawal of account `user`.
    pub fn setup_withdrawal(&self, user: u32) -> String {
        format!("{}-S{user}", self.institution_id)
    }
}

/// The mix of a scenario in per mille, per kind of action.
struct Mix {
    user_sync: u64,
    recharge: u64,
    withdraw: u64,
    account_query: u64,
    recharge_query: u64,
    withdraw_query: u64,
}

impl Mix {
    fn of(scenario: Scenario) -> Mix {
        let none = Mix {
            user_sync: 0,
            recharge: 0,
            withdraw: 0,
            account_query: 0,
            recharge_query: 0,
            withdraw_query: 0,
        };
        match scenario {
            Scenario::UserSync => Mix {
                user_sync: 1000,
                ..none
            },
            Scenario::Recharge => Mix {
                recharge: 1000,
                ..none
            },
            Scenario::Withdraw => Mix {
                withdraw: 1000,
                ..none
            },
            Scenario::Query => Mix {
                account_query: 400,
                recharge_query: 400,
                withdraw_query: 200,
                ..none
            },
            // Institutions look far more often than they move money: half the
            // traffic reads (accounts as often as orders), a third tops up.
            Scenario::Mixed => Mix {
                user_sync: 50,
                recharge: 350,
                withdraw: 100,
                account_query: 200,
                recharge_query: 200,
                withdraw_query: 100,
            },
        }
    }

    fn total(&self) -> u64 {
        self.user_sync
            + self.recharge
            + self.withdraw
            + self.account_query
            + self.recharge_query
            + self.withdraw_query
    }
}

/// The timed requests and, per setup account, what they would move if every
/// one were accepted.
#[derive(Debug, Clone)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Per account: the sum of its timed recharges, in fen.
    pub recharge_fen: Vec<i64>,
    /// Per account: the sum of its timed withdrawals, in fen.
    pub withdraw_fen: Vec<i64>,
}

impl Plan {
    /// Draws `count` timed requests over `users` accounts.
    pub fn draw(scenario: Scenario, count: usize, users: usize, seed: u64, l2: &LimitSet) -> Plan {
        assert!(
            users > 0 && users <= u32::MAX as usize,
            "users out of range"
        );
        let mix = Mix::of(scenario);
        assert_eq!(mix.total(), 1000, "a mix is in per mille");
        let recharge_max = RECHARGE_FEN_MAX
            .min(l2.single_recharge_fen)
            .max(RECHARGE_FEN_MIN);
        let mut rng = Rng::new(seed);
        let mut plan = Plan {
            actions: Vec::with_capacity(count),
            recharge_fen: vec![0; users],
            withdraw_fen: vec![0; users],
        };
        for _ in 0..count {
            let mut pick = rng.below(1000);
            let user = rng.below(users as u64) as u32;
            let mut take = |share: u64| {
                if pick < share {
                    true
                } else {
                    pick -= share;
                    false
                }
            };
            let action = if take(mix.user_sync) {
                Action::UserSync
            } else if take(mix.recharge) {
                let amount_fen = rng.between(RECHARGE_FEN_MIN, recharge_max);
                plan.recharge_fen[user as usize] += amount_fen;
                Action::Recharge { user, amount_fen }
            } else if take(mix.withdraw) {
                plan.withdraw_fen[user as usize] += WITHDRAW_FEN;
                Action::Withdraw {
                    user,
                    amount_fen: WITHDRAW_FEN,
                }
            } else if take(mix.account_query) {
                Action::AccountQuery { user }
            } else if take(mix.recharge_query) {
                Action::RechargeQuery { user }
            } else {
                Action::WithdrawQuery { user }
            };
            plan.actions.push(action);
        }
        plan
    }

    /// What setup credits account `user`, split into recharges no larger than
    /// the single-recharge limit: its withdrawals, the setup withdrawal, and
    /// [`FUNDING_EXTRA_FEN`]. Empty when the scenario funds nothing.
    pub fn funding_parts(&self, scenario: Scenario, user: u32, l2: &LimitSet) -> Vec<i64> {
        if !scenario.funds_accounts() {
            return Vec::new();
        }
        let setup_withdrawal = if scenario.creates_withdrawals() {
            WITHDRAW_FEN
        } else {
            0
        };
        let mut left = self.withdraw_fen[user as usize] + setup_withdrawal + FUNDING_EXTRA_FEN;
        let part_max = l2.single_recharge_fen.max(1);
        let mut parts = Vec::new();
        while left > 0 {
            let part = left.min(part_max);
            parts.push(part);
            left -= part;
        }
        parts
    }

    /// Refuses a plan whose accounts would hit the L2 limits (`3004`), which
    /// would measure the limit check instead of the wallet. The answer names the
    /// way out: more accounts, or fewer requests.
    pub fn check_limits(&self, scenario: Scenario, l2: &LimitSet) -> Result<(), String> {
        if WITHDRAW_FEN > l2.single_withdraw_fen {
            return Err("the L2 single-withdrawal limit is below 0.10 CNY".into());
        }
        for user in 0..self.recharge_fen.len() {
            let funding: i64 = self.funding_parts(scenario, user as u32, l2).iter().sum();
            let recharged = funding + self.recharge_fen[user];
            let ceiling = l2
                .daily_recharge_fen
                .min(l2.yearly_recharge_fen)
                .min(l2.balance_max_fen);
            if recharged > ceiling {
                return Err(format!(
                    "account {user} would be recharged {} CNY today, over the L2 daily/yearly/balance limit of {} CNY: \
                     spread the load over more --users, or sign fewer requests (--requests, --max-presigned)",
                    recharged / 100,
                    ceiling / 100
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use freewalker_domain::limits::LimitTable;

    #[test]
    fn the_mixed_plan_follows_its_mix_and_its_sums() {
        let l2 = LimitTable::default().l2;
        let plan = Plan::draw(Scenario::Mixed, 20_000, 50, 9, &l2);
        let share =
            |api: Api| plan.actions.iter().filter(|a| a.api() == api).count() as f64 / 20_000.0;
        assert!((share(Api::UserSync) - 0.05).abs() < 0.01);
        assert!((share(Api::RechargeApply) - 0.35).abs() < 0.02);
        assert!((share(Api::WithdrawConfirm) - 0.10).abs() < 0.01);
        let withdrawn: i64 = plan.withdraw_fen.iter().sum();
        let withdrawals = plan
            .actions
            .iter()
            .filter(|a| a.api() == Api::WithdrawConfirm)
            .count() as i64;
        assert_eq!(withdrawn, withdrawals * WITHDRAW_FEN);
        for a in &plan.actions {
            if let Action::Recharge { amount_fen, .. } = a {
                assert!((RECHARGE_FEN_MIN..=RECHARGE_FEN_MAX).contains(amount_fen));
            }
        }
        assert_eq!(plan.check_limits(Scenario::Mixed, &l2), Ok(()));
        // Funding covers every withdrawal, the setup one and the extra.
        let parts = plan.funding_parts(Scenario::Mixed, 3, &l2);
        assert_eq!(
            parts.iter().sum::<i64>(),
            plan.withdraw_fen[3] + WITHDRAW_FEN + FUNDING_EXTRA_FEN
        );
        assert!(plan.funding_parts(Scenario::Recharge, 3, &l2).is_empty());
    }

    #[test]
    fn too_much_load_on_too_few_accounts_is_refused() {
        let l2 = LimitTable::default().l2;
        let plan = Plan::draw(Scenario::Recharge, 50_000, 1, 1, &l2);
        let e = plan.check_limits(Scenario::Recharge, &l2).unwrap_err();
        assert!(e.contains("--users"), "{e}");
    }
}
