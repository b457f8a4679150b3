#!/usr/bin/env python3
"""Makes the bundled review samples from the Amazon fine-food reviews (not shipped with the repo).

Usage: python3 infra/datasets/make_reviews_samples.py <folder with reviews-train.csv and reviews-test.csv>

Writes, gzip-compressed and byte-identical across runs:
- reviews-sample/reviews-train.csv.gz: a fixed-seed sample of 1,500 training reviews
  (product, review, score: great or other), for the `reviews` spec;
- reviews-sample/reviews-new.csv.gz: 500 of the test reviews, as later data to score and compare;
- pantry-sample/pantry.csv.gz: every review (train and test) that names a pantry category, with
  that category (27 classes), for the `pantry` spec: a many-class text model.

The pantry category of a review is decided by a documented rule, not by a person: each category
has a few keywords (below); the review's category is the one whose keywords occur most often in
its words (lowercased, split at non-word characters), the first listed on a tie. Reviews with none
of the keywords are left out.
"""
import collections
import csv
import gzip
import io
import random
import re
import sys
from pathlib import Path

CATEGORIES = {
    "coffee": ["coffee", "espresso", "k-cup", "kcup", "keurig"],
    "tea": ["tea", "teas", "chai", "matcha"],
    "chocolate": ["chocolate", "cocoa"],
    "dog food": ["dog", "dogs", "puppy"],
    "cat food": ["cat", "cats", "kitten"],
    "candy": ["candy", "gum", "licorice", "gummy", "gummies"],
    "chips": ["chips", "crisps", "popcorn"],
    "cookies": ["cookie", "cookies", "biscuits", "crackers"],
    "sauce": ["sauce", "salsa", "ketchup", "mustard", "dressing"],
    "spices": ["spice", "pepper", "salt", "cinnamon", "seasoning"],
    "pasta": ["pasta", "noodles", "spaghetti", "macaroni"],
    "rice": ["rice", "quinoa"],
    "soup": ["soup", "broth"],
    "cereal": ["cereal", "oatmeal", "oats", "granola"],
    "baby food": ["baby", "infant", "formula"],
    "nuts": ["nuts", "almonds", "peanuts", "cashews", "pistachios"],
    "fruit": ["fruit", "berries", "apples", "raisins", "mango"],
    "juice": ["juice", "lemonade"],
    "water": ["water", "coconut"],
    "soda": ["soda", "cola", "sparkling"],
    "energy drinks": ["energy", "caffeine"],
    "protein": ["protein", "bar", "bars"],
    "sweeteners": ["sugar", "honey", "syrup", "stevia", "sweetener"],
    "oil": ["oil", "olive", "vinegar"],
    "baking": ["flour", "baking", "mix", "pancake"],
    "jerky": ["jerky", "meat", "beef", "bacon"],
    "dairy": ["cheese", "milk", "butter", "yogurt"],
}


def category(review: str):
    counts = collections.Counter(re.findall(r"\w+", review.lower()))
    best, best_count = None, 0
    for name, keywords in CATEGORIES.items():
        found = sum(counts[k] for k in keywords)
        if found > best_count:
            best, best_count = name, found
    return best


def write(target: Path, header, rows) -> None:
    target.parent.mkdir(exist_ok=True)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    # mtime=0 keeps the archive byte-identical across runs.
    with open(target, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(text.getvalue().encode())
    print(f"{target}: {len(rows)} rows")


def main() -> None:
    source = Path(sys.argv[1])
    here = Path(__file__).parent
    read = lambda name: list(csv.DictReader(open(source / name, newline="", encoding="utf-8")))
    train, test = read("reviews-train.csv"), read("reviews-test.csv")
    header = ["product", "review", "score"]
    keep = sorted(random.Random(2013).sample(range(len(train)), 1500))
    write(here / "reviews-sample" / "reviews-train.csv.gz", header,
          [[train[i][k] for k in header] for i in keep])
    write(here / "reviews-sample" / "reviews-new.csv.gz", header,
          [[r[k] for k in header] for r in test[:500]])
    pantry = [[r["product"], r["review"], c] for r in train + test if (c := category(r["review"]))]
    write(here / "pantry-sample" / "pantry.csv.gz", ["product", "review", "category"], pantry)
    print(collections.Counter(row[2] for row in pantry).most_common())


if __name__ == "__main__":
    main()
