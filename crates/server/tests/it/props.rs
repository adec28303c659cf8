//! A property test: random sequences of recharges (new, repeated, conflicting,
//! over a limit) and queries, checked answer by answer against a simple model of
//! what the wallet must hold.

use std::collections::HashMap;

use freewalker_protocol::api::{AccountNo, AccountQueryRequest};
use proptest::prelude::*;

use crate::support::{Backend, INST, TestApp, fen, pg_url};

#[derive(Debug, Clone)]
enum Step {
    Recharge {
        out: u8,
        account: usize,
        amount_fen: i64,
    },
    Query {
        out: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..12, 0usize..2, prop_oneof![1i64..=2_000, 100_000i64..=250_000])
            .prop_map(|(out, account, amount_fen)| Step::Recharge { out, account, amount_fen }),
        1 => (0u8..12).prop_map(|out| Step::Query { out }),
    ]
}

/// What the wallet must hold: L0 limits of §5, all on one CST day.
#[derive(Default)]
struct Model {
    orders: HashMap<u8, (usize, i64)>,
    balance: [i64; 2],
}

impl Model {
    fn recharge(&mut self, out: u8, account: usize, amount: i64) -> &'static str {
        if let Some(&(a, m)) = self.orders.get(&out) {
            return if (a, m) == (account, amount) {
                "0000"
            } else {
                "3005"
            };
        }
        // Single 2,000.00; the day 5,000.00; the year 10,000.00; balance 10,000.00.
        let day = self.balance[account];
        if amount > 200_000 || day + amount > 500_000 || self.balance[account] + amount > 1_000_000
        {
            return "3004";
        }
        self.orders.insert(out, (account, amount));
        self.balance[account] += amount;
        "0000"
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn recharges_and_queries_agree_with_the_model(steps in proptest::collection::vec(step(), 1..40)) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let backend = if pg_url().is_some() && steps.len() % 2 == 0 { Backend::Postgres } else { Backend::Sqlite };
            let app = TestApp::spawn(backend).await;
            let accounts = [app.user("p-0", "P0").await, app.user("p-1", "P1").await];
            let mut model = Model::default();
            for s in &steps {
                match *s {
                    Step::Recharge { out, account, amount_fen } => {
                        let expected = model.recharge(out, account, amount_fen);
                        let reply = app.recharge(&format!("P-{out}"), &accounts[account], amount_fen).await;
                        assert_eq!(reply.ret_code(), expected, "{s:?}: {:?}", reply.envelope);
                    }
                    Step::Query { out } => {
                        let reply = app.client.recharge_query(&TestApp::query(Some(&format!("P-{out}")), None)).await.unwrap();
                        match model.orders.get(&out) {
                            Some((account, amount)) => {
                                assert_eq!(reply.ret_code(), "0000");
                                let d = reply.envelope.data.unwrap();
                                assert_eq!(fen(d["amount"].as_str().unwrap()), *amount);
                                assert_eq!(d["account_no"], accounts[*account].as_str());
                            }
                            None => assert_eq!(reply.ret_code(), "3006"),
                        }
                    }
                }
            }
            for (i, account) in accounts.iter().enumerate() {
                let q = AccountQueryRequest { institution_id: INST.into(), account_no: AccountNo::parse(account).unwrap() };
                let d = app.client.account_query(&q).await.unwrap().envelope.data.unwrap();
                assert_eq!(fen(d["available_balance"].as_str().unwrap()), model.balance[i]);
            }
            app.assert_ledger_clean().await;
        });
    }
}
