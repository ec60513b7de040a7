#include "core/suggest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dpmlp {
namespace {

const std::vector<std::string> kNames = {"layers", "lr",         "l1",   "loss",    "lr-gamma",
                                         "epochs", "batch-size", "seed", "momentum"};

TEST(SuggestTest, EditDistanceCountsEachKindOfTypingError) {
  EXPECT_EQ(EditDistance("layers", "layers"), 0);
  EXPECT_EQ(EditDistance("layer", "layers"), 1);       // deletion
  EXPECT_EQ(EditDistance("layerss", "layers"), 1);     // insertion
  EXPECT_EQ(EditDistance("momentun", "momentum"), 1);  // substitution
  EXPECT_EQ(EditDistance("laeyrs", "layers"), 1);      // adjacent swap
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
}

TEST(SuggestTest, APrefixOfOneNameNamesIt) {
  EXPECT_EQ(SuggestNames("layer", kNames, "--"), "did you mean --layers?");
  EXPECT_EQ(SuggestNames("mom", kNames, "--"), "did you mean --momentum?");
}

TEST(SuggestTest, APrefixOfSeveralNamesListsThemSorted) {
  EXPECT_EQ(SuggestNames("l", kNames, "--"),
            "options starting with --l: --l1, --layers, --loss, --lr, --lr-gamma");
  EXPECT_EQ(SuggestNames("lr-", kNames, "--"), "did you mean --lr-gamma?");
  EXPECT_EQ(SuggestNames("lo", kNames, ""), "did you mean loss?");
}

TEST(SuggestTest, TyposSuggestTheNearestNames) {
  EXPECT_EQ(SuggestNames("momentun", kNames, "--"), "did you mean --momentum?");
  EXPECT_EQ(SuggestNames("batchsize", kNames, "--"), "did you mean --batch-size?");
  EXPECT_EQ(SuggestNames("batch_size", kNames, "--"), "did you mean --batch-size?");
  EXPECT_EQ(SuggestNames("EPOCHS", kNames, "--"), "did you mean --epochs?");
  // --LR is --lr in capitals, not the start of --lr-gamma.
  EXPECT_EQ(SuggestNames("LR", kNames, "--"), "did you mean --lr?");
  EXPECT_EQ(SuggestNames("Lr-Gamma", kNames, "--"), "did you mean --lr-gamma?");
  EXPECT_EQ(SuggestNames("sede", kNames, ""), "did you mean seed?");
  // Two names one edit away: both, sorted.
  EXPECT_EQ(SuggestNames("lt", kNames, "--"), "did you mean --l1 or --lr?");
}

TEST(SuggestTest, NothingCloseSuggestsNothing) {
  EXPECT_EQ(SuggestNames("learning-rate", kNames, "--"), "");
  EXPECT_EQ(SuggestNames("xyz", kNames, "--"), "");
  EXPECT_EQ(SuggestNames("", kNames, "--"), "");
  EXPECT_EQ(SuggestNames("layers", {}, "--"), "");
}

}  // namespace
}  // namespace dpmlp
