package dev.penumbra.query.tpch;

/**
 * What a loaded TPC-H database was generated with, stored in its {@code tpch_metadata} table.
 *
 * @param scale the scale factor
 * @param seed the generator seed
 * @param formatVersion the generator's output format; a database from another version is regenerated or refused
 */
public record TpchMetadata(double scale, long seed, int formatVersion) {}
