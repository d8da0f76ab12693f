//! AMIS WebGIS: layers are read once into memory ([`source`] → [`catalog`]), indexed
//! ([`index`]), and served as vector tiles ([`tiles`], [`tilejson`]) and OGC API –
//! Features ([`features`]) by the router in [`server`].

pub mod auth;
pub mod catalog;
pub mod client;
pub mod config;
pub mod connection;
pub mod crs;
pub mod error;
pub mod facts;
pub mod feature;
pub mod features;
pub mod fonts;
pub mod gzip;
pub mod index;
pub mod observe;
pub mod params;
pub mod production;
pub mod protocol;
pub mod publish;
pub mod search;
pub mod server;
pub mod source;
pub mod store;
pub mod styles;
pub mod tilejson;
pub mod tiles;
pub mod upload;
pub mod vocab;
pub mod web;
pub mod work;
