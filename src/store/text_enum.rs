//! Enums stored as text. `text_enum!` declares an enum whose variants are
//! written as fixed strings: the same string in the database, in JSON and in
//! the JSON Schema, with `as_str`, `FromStr` and `Display`. `sql_text!` gives
//! an existing enum with `as_str` and `FromStr` the sqlx mapping for both
//! engines. A stored value that is not a variant fails the read (a corrupt
//! row is an error, never a silent default).

/// Implement sqlx's `Type`, `Encode` and `Decode` on SQLite and Postgres for
/// a type with `fn as_str(&self) -> &'static str` and `FromStr`.
#[macro_export]
macro_rules! sql_text {
    ($t:ty) => {
        $crate::sql_text!(@db $t, sqlx::Sqlite);
        $crate::sql_text!(@db $t, sqlx::Postgres);
    };
    (@db $t:ty, $db:ty) => {
        impl sqlx::Type<$db> for $t {
            fn type_info() -> <$db as sqlx::Database>::TypeInfo {
                <str as sqlx::Type<$db>>::type_info()
            }
            fn compatible(ty: &<$db as sqlx::Database>::TypeInfo) -> bool {
                <str as sqlx::Type<$db>>::compatible(ty)
            }
        }
        impl<'q> sqlx::Encode<'q, $db> for $t {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, $db>>::encode(self.as_str(), buf)
            }
        }
        impl<'r> sqlx::Decode<'r, $db> for $t {
            fn decode(
                value: <$db as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let s = <&str as sqlx::Decode<'r, $db>>::decode(value)?;
                s.parse::<$t>().map_err(|_| {
                    format!("{s:?} is not a valid {}", stringify!($t)).into()
                })
            }
        }
    };
}

/// Declare an enum stored and serialised as fixed strings.
#[macro_export]
macro_rules! text_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $v),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$v => $s),+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    _ => Err(format!(
                        "{s:?} is not one of: {}",
                        [$($s),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        $crate::sql_text!($name);
    };
}
