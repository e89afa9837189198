/*
 * Price and size text as Hyperliquid accepts it (docs "Tick and lot size";
 * SDK float_to_wire), computed on exact decimals only:
 *   - size: at most szDecimals decimals;
 *   - perp price: at most 5 significant figures unless it is an integer
 *     (integer prices are always allowed), and at most 6 - szDecimals
 *     decimals;
 *   - no trailing zeros, no trailing dot, never "-0".
 * The exchange hashes the text it receives: "100.0" and "100" sign
 * differently, so the normalised form is the only one ever sent. A value
 * that breaks a rule is refused locally (INVALID_REQUEST) instead of being
 * rounded behind the caller's back; only market-order prices, which the
 * plugin computes itself, are rounded (hl_round_price).
 */
#include <string.h>

#include "hl.h"

#define HL_PERP_MAX_DECIMALS 6
#define HL_MAX_SIG_FIGS 5
#define HL_WIRE_MAX_DECIMALS 8 /* float_to_wire's "{:.8f}" bound */

static int max_price_decimals(int sz_decimals)
{
    int d = HL_PERP_MAX_DECIMALS - sz_decimals;
    return d < 0 ? 0 : d;
}

static int fmt(const struct xgw_core_api *core, xgw_dec d, char out[XGW_DEC_STRLEN], struct xgw_error *err)
{
    if (core->dec_format(d, out, XGW_DEC_STRLEN) == 0)
        return core->set_error(err, XGW_ERR_INTERNAL, 0, "cannot format a decimal");
    return XGW_OK;
}

int hl_wire_size(const struct xgw_core_api *core, xgw_dec qty, int sz_decimals, char out[XGW_DEC_STRLEN],
                 struct xgw_error *err)
{
    if (xgw_dec_is_none(qty) || qty.mant <= 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order size must be a positive number");
    xgw_dec n = core->dec_normalize(qty);
    if (n.scale > sz_decimals || n.scale > HL_WIRE_MAX_DECIMALS) {
        char t[XGW_DEC_STRLEN];
        core->dec_format(qty, t, sizeof t);
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "size %s has more than the market's %d decimals (szDecimals); round it to a "
                               "multiple of the step size",
                               t, sz_decimals);
    }
    return fmt(core, n, out, err);
}

int hl_wire_price(const struct xgw_core_api *core, xgw_dec px, int sz_decimals, char out[XGW_DEC_STRLEN],
                  struct xgw_error *err)
{
    if (xgw_dec_is_none(px) || px.mant <= 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "order price must be a positive number");
    xgw_dec n = core->dec_normalize(px);
    char t[XGW_DEC_STRLEN];
    int maxd = max_price_decimals(sz_decimals);
    if (n.scale > maxd) {
        core->dec_format(px, t, sizeof t);
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "price %s has more than %d decimals (6 - szDecimals %d); round it to the tick size",
                               t, maxd, sz_decimals);
    }
    if (n.scale > 0 && core->dec_sig_digits(n) > HL_MAX_SIG_FIGS) {
        core->dec_format(px, t, sizeof t);
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "price %s has more than 5 significant figures (only integer prices may have more)",
                               t);
    }
    return fmt(core, n, out, err);
}

int hl_round_price(const struct xgw_core_api *core, xgw_dec px, int sz_decimals, enum xgw_round mode,
                   xgw_dec *out)
{
    if (xgw_dec_is_none(px) || px.mant <= 0)
        return XGW_ERR_INVALID_REQUEST;
    xgw_dec n = core->dec_normalize(px);
    int sig = core->dec_sig_digits(n);
    if (n.scale > 0 && sig > HL_MAX_SIG_FIGS) {
        int32_t want = n.scale - (sig - HL_MAX_SIG_FIGS);
        /* more than 5 integer digits: an integer is always allowed */
        if (want < 0)
            want = 0;
        if (core->dec_rescale(n, want, mode, &n) != 0)
            return XGW_ERR_INVALID_REQUEST;
        n = core->dec_normalize(n);
    }
    int maxd = max_price_decimals(sz_decimals);
    if (n.scale > maxd) {
        if (core->dec_rescale(n, maxd, mode, &n) != 0)
            return XGW_ERR_INVALID_REQUEST;
        n = core->dec_normalize(n);
    }
    if (n.mant <= 0)
        return XGW_ERR_INVALID_REQUEST;
    *out = n;
    return XGW_OK;
}

int hl_slippage_price(const struct xgw_core_api *core, xgw_dec ref, bool is_buy, xgw_dec slippage, int sz_decimals,
                      xgw_dec *out, struct xgw_error *err)
{
    xgw_dec one = {1, 0}, factor, px;
    if (xgw_dec_is_none(ref) || ref.mant <= 0)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0, "market order: no positive reference price");
    if (xgw_dec_is_none(slippage) || slippage.mant < 0 || core->dec_cmp(slippage, one) >= 0)
        return core->set_error(err, XGW_ERR_CONFIG, 0, "market_slippage must be in [0, 1)");
    int rc = is_buy ? core->dec_add(one, slippage, &factor) : core->dec_sub(one, slippage, &factor);
    if (rc == 0)
        rc = core->dec_mul(ref, factor, &px);
    if (rc != 0 || hl_round_price(core, px, sz_decimals, XGW_ROUND_NEAREST, out) != XGW_OK)
        return core->set_error(err, XGW_ERR_INVALID_REQUEST, 0,
                               "market order: the slippage-adjusted price cannot be represented");
    return XGW_OK;
}
