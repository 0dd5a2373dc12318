// FitsHeader: the ordered list of 80-character header cards of one image HDU.
// Cards read from a file are kept verbatim and written back verbatim (but see standard_card); only
// cards changed through set_*() are re-formatted. Structural and tile-compression cards are not stored here: the writer
// derives them from the data (see fits_io.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiaccel {

struct FitsCard {
    std::string key;  // upper case, no trailing blanks; "" for blank cards
    std::string raw;  // the card as 80 characters (or fewer, right-trimmed)
};

class FitsHeader {
public:
    // Appends a card exactly as given (used by the reader).
    void add_raw(std::string raw);

    bool has(std::string_view key) const;
    // Value as text: strings unquoted (with '' → '), numbers as written. nullopt if absent.
    std::optional<std::string> get_text(std::string_view key) const;
    std::optional<double> get_double(std::string_view key) const;  // nullopt if absent or not numeric
    std::optional<std::string> get_string(std::string_view key) const;  // nullopt if absent

    // Replace the first card with this key (keeping its position and comment), or append.
    void set_double(std::string_view key, double value, std::string_view comment = {});
    void set_int(std::string_view key, long long value, std::string_view comment = {});
    void set_string(std::string_view key, std::string_view value, std::string_view comment = {});
    void set_bool(std::string_view key, bool value, std::string_view comment = {});
    void add_history(std::string_view text);
    void add_comment(std::string_view text);
    void erase(std::string_view key);  // every card with this key

    const std::vector<FitsCard>& cards() const { return cards_; }

    // Shortest decimal text that reads back to exactly this double, with a '.' or 'E' (FITS real).
    static std::string format_real(double v);

private:
    void set_value_text(std::string_view key, const std::string& value, bool is_string, std::string_view comment);
    const FitsCard* find(std::string_view key) const;
    std::vector<FitsCard> cards_;
};

// The value of a "KEY     = value / comment" card as text: a string unquoted ('' → ', trailing blanks
// dropped), anything else as written without its comment; nullopt for commentary cards.
std::optional<std::string> card_value(const std::string& raw);
// A FITS string value starting at its opening quote → its text ('' → ', trailing blanks dropped).
std::string unquote_fits_string(std::string_view quoted);

// The card as the writer writes it: verbatim, unless its value is none FITS allows — JSOC's synoptic
// files carry bare `nan` values (OSCNMEAN, RSUN_LF, ...) that astropy refuses in a plain HDU — which
// becomes a string card with the same text and comment, as astropy's own fix makes it ('nan').
std::string standard_card(const FitsCard& card);

// Keywords the writer generates itself; never stored in FitsHeader.
bool is_structural_keyword(std::string_view key);

}  // namespace aiaccel
